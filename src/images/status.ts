import { z } from "zod";
import type { Store } from "../store/index.js";
import { getJson, setJson } from "../store/index.js";

/**
 * Where every image of every ImageSet stands in every cloud, as one snapshot in the store: written by the process
 * that distributes images (the sync run, about once a second while transfers run, and at its end), read by
 * `archway images status` and the admin grid. One key, because readers want the whole grid at once and only one
 * process writes it at a time (the sync run lock); 1,000 clouds x 10 images is well under a megabyte.
 */

/** The state of one image (one version of one ImageSet entry) in one cloud. */
export const ImageCloudStateSchema = z.enum([
  /** Active in the cloud and verified against the source's digests. */
  "present",
  /** Being streamed or imported now (`bytesDone` of `totalBytes`). */
  "transferring",
  /** The last attempt failed (`code`, `reason`); retried on the next run. */
  "failed",
  /** Wanted, but the cloud could not be read or written (down): retried when it answers. */
  "pending",
]);
/** One of {@link ImageCloudStateSchema}. */
export type ImageCloudState = z.infer<typeof ImageCloudStateSchema>;

/** One cell of the grid: an image version in a cloud. */
export const ImageStatusRowSchema = z.object({
  /** The ImageSet manifest's name. */
  imageSet: z.string(),
  /** The image's name within the set (its name in Glance). */
  image: z.string(),
  /** The version: the source's digest, `<algorithm>:<hex>` (sha512 or sha256, as pinned or computed). */
  version: z.string(),
  cloudId: z.string(),
  state: ImageCloudStateSchema,
  /** The image's id in the cloud, once created. */
  imageId: z.string().optional(),
  bytesDone: z.number().int().nonnegative().optional(),
  totalBytes: z.number().int().nonnegative().optional(),
  /** Why it failed or is pending: a stable code (`image_verification_failed`, `cloud_unavailable`...) ... */
  code: z.string().optional(),
  /** ... and a sentence a person can act on (never a secret or a credential-bearing URL). */
  reason: z.string().optional(),
  /** When this row last changed (ISO 8601). */
  updatedAt: z.string(),
});
/** One row of {@link ImageStatusSnapshotSchema}. */
export type ImageStatusRow = z.infer<typeof ImageStatusRowSchema>;

/** The whole grid. */
export const ImageStatusSnapshotSchema = z.object({
  /** When the snapshot was written (ISO 8601). */
  writtenAt: z.string(),
  /** True while transfers are running (the snapshot will change again). */
  running: z.boolean(),
  rows: z.array(ImageStatusRowSchema),
});
/** What {@link readImageStatus} returns. */
export type ImageStatusSnapshot = z.infer<typeof ImageStatusSnapshotSchema>;

const KEY = "images:status";

/** Reads the last snapshot (null before any image was distributed). */
export function readImageStatus(store: Store): Promise<ImageStatusSnapshot | null> {
  return getJson(store, KEY, ImageStatusSnapshotSchema);
}

/** Replaces the snapshot. */
export async function writeImageStatus(store: Store, snapshot: ImageStatusSnapshot): Promise<void> {
  await setJson(store, KEY, snapshot);
}
