import type { ProjectRef } from "../../project-ref.js";

/**
 * Where an operation reads an image from: plain data (operations are saved in plans), turned into an
 * `ImageSource` at apply time.
 */
export type SourceRef =
  | { kind: "file"; path: string }
  | { kind: "url"; url: string; pin: { algorithm: "sha256" | "sha512"; value: string } }
  | { kind: "golden"; cloudId: string; imageId: string };

/** Glance fields of an image, as created and kept. */
export interface ImageFields {
  diskFormat: string;
  containerFormat: string;
  visibility: "public" | "community" | "shared" | "private";
  protected: boolean;
  minDisk: number;
  minRam: number;
  properties: Record<string, string>;
}

/** What identifies an image version in plans and the status grid. */
export interface VersionRef {
  imageSet: string;
  /** The image's name in its set (the newest version's Glance name). */
  image: string;
  /** `<algorithm>:<hex>`. */
  version: string;
}

/**
 * Puts a version that is missing into the cloud (created under its versioned name, verified, then given the plain
 * name, the previous holder renamed to its own versioned name). Same-version transfers of many clouds share one
 * read of the source (a wave).
 */
export interface TransferImage extends VersionRef {
  kind: "transferImage";
  source: SourceRef;
  fields: ImageFields;
  mode: "stream" | "pull";
  /** Pull: the URL the cloud fetches (the source, or a mirror near it). */
  pullUrl?: string;
  /** The owned image holding the plain name now (an older version), renamed once the new one is verified. */
  demote?: { imageId: string; name: string };
  /** Visibility `shared`: the projects (granted by Archway in this cloud) it is shared with. */
  members: ProjectRef[];
  policies: string[];
}

/** Renames an owned image: the newest version gets the plain name, the others their versioned names. */
export interface RenameImage extends VersionRef {
  kind: "renameImage";
  imageId: string;
  from: string;
  to: string;
  policies: string[];
}

/** Brings an owned image's fields (visibility, protection, min disk/RAM, properties) to the set's. */
export interface UpdateImage extends VersionRef {
  kind: "updateImage";
  imageId: string;
  name: string;
  /** Glance attribute -> new value (`null` removes a property). */
  changes: Record<string, string | number | boolean | null>;
  policies: string[];
}

/** Why an owned image goes. */
export type DeleteReason = "retired" | "leftover" | "mismatch" | "duplicate";

/** Deletes an owned image (a retired version, an unfinished leftover, a copy failing verification, a duplicate). */
export interface DeleteImage extends VersionRef {
  kind: "deleteImage";
  imageId: string;
  name: string;
  reason: DeleteReason;
  protected: boolean;
  /** Retiring: only once this version is in the cloud (verified by this run's transfer), else kept. */
  afterVersion?: string;
  policies: string[];
}

/** Shares an owned `shared` image with a project Archway grants in the cloud, accepted on its behalf. */
export interface ShareImage extends VersionRef {
  kind: "shareImage";
  imageId: string;
  name: string;
  project: ProjectRef;
  policies: string[];
}

/** Stops sharing an owned image with an Archway-owned project no policy grants in the cloud any more. */
export interface UnshareImage extends VersionRef {
  kind: "unshareImage";
  imageId: string;
  name: string;
  /** The member's project id (what Glance knows). */
  projectId: string;
  /** `<domain>/<name>` of the project, for a person. */
  project: string;
  policies: string[];
}

/** The operations on Glance images. */
export type ImageOperation = TransferImage | RenameImage | UpdateImage | DeleteImage | ShareImage | UnshareImage;
