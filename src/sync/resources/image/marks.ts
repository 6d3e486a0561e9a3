import type { SourcePin } from "../../../images/index.js";
import type { Image } from "../../../openstack/index.js";
import type { Ownership } from "../../ownership.js";

/**
 * Archway's marks on a Glance image: custom properties, which Glance filters on server-side (`?key=value`), so one
 * list call per cloud returns exactly this deployment's images. Hand-made images carry none and are never listed,
 * changed or deleted; another deployment's carry its own id.
 */
export const IMAGE_DEPLOYMENT = "archway_deployment";
/** Property: the ImageSet the image belongs to. */
export const IMAGE_SET = "archway_imageset";
/** Property: the image's name within its set (its Glance name, when it is the newest version). */
export const IMAGE_ENTRY = "archway_image";
/** Property: the version, `<algorithm>:<hex>`: the source's digest (a URL's pin, a file's or golden image's sha512). */
export const IMAGE_VERSION = "archway_version";

/** The marks an image of `set`/`image` at `version` carries. */
export function imageMarks(ownership: Ownership, set: string, image: string, version: string): Record<string, string> {
  return {
    [IMAGE_DEPLOYMENT]: ownership.deploymentId,
    [IMAGE_SET]: set,
    [IMAGE_ENTRY]: image,
    [IMAGE_VERSION]: version,
  };
}

/** The filter that lists this deployment's images. */
export function deploymentFilter(ownership: Ownership): Record<string, string> {
  return { [IMAGE_DEPLOYMENT]: ownership.deploymentId };
}

/** An observed image of this deployment, with its marks read. */
export interface OwnedImage {
  id: string;
  name: string;
  status: string;
  set: string;
  image: string;
  version: string;
  createdAt: string;
  updatedAt: string;
  protected: boolean;
  /** The Glance record as read (for verification and drift). */
  raw: Image;
}

/** The image with its marks, when this deployment owns it (checked again: a filter is not a guarantee). */
export function ownedImage(image: Image, ownership: Ownership): OwnedImage | null {
  const props = image as Record<string, unknown>;
  const str = (k: string) => (typeof props[k] === "string" ? (props[k] as string) : "");
  if (str(IMAGE_DEPLOYMENT) !== ownership.deploymentId) return null;
  const set = str(IMAGE_SET);
  const entry = str(IMAGE_ENTRY);
  const version = str(IMAGE_VERSION);
  if (!set || !entry || !version) return null;
  return {
    id: image.id,
    name: image.name ?? "",
    status: image.status,
    set,
    image: entry,
    version,
    createdAt: image.created_at ?? "",
    updatedAt: image.updated_at ?? image.created_at ?? "",
    protected: image.protected === true,
    raw: image,
  };
}

/** A version (`<algorithm>:<hex>`) as the pin its source is checked against: sha256, or else sha512. */
export function versionPin(version: string): SourcePin {
  const [algorithm, hex = ""] = version.split(":");
  return { algorithm: algorithm === "sha256" ? "sha256" : "sha512", value: hex };
}

/**
 * The Glance name of a version that is not the newest: `<name>@<first 12 hex digits of its digest>`. The newest
 * version holds the plain name, so `openstack server create --image <name>` (which refuses a name two images
 * share) always finds exactly one image, the newest; an older one stays bootable by its versioned name or id.
 */
export function versionedName(name: string, version: string): string {
  const hex = version.slice(version.indexOf(":") + 1);
  return `${name}@${hex.slice(0, 12)}`;
}

/**
 * True when an active image is the version it claims: Glance hashed it with sha512 and, for a sha512 version, got
 * the version's digest (a sha256-pinned URL was checked against its pin when it was transferred; Glance cannot
 * tell sha256).
 */
export function isVerified(image: OwnedImage, version: string): boolean {
  if (image.status !== "active" || image.version !== version || image.raw.os_hash_algo !== "sha512") return false;
  const [algorithm, hex] = version.split(":");
  return algorithm !== "sha512" || image.raw.os_hash_value === hex?.toLowerCase();
}
