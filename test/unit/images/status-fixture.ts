import type { ImageStatusRow, ImageStatusSnapshot } from "../../../src/images/index.js";

const V1 = `sha512:${"a".repeat(128)}`;
const V2 = `sha512:${"b".repeat(128)}`;
const MiB = 1024 * 1024;

/** A row with the fields a test does not care about filled in. */
export const row = (r: Partial<ImageStatusRow> & Pick<ImageStatusRow, "cloudId" | "state">): ImageStatusRow => ({
  imageSet: "base",
  image: "ubuntu-24.04",
  version: V2,
  updatedAt: "2026-12-06T12:00:00.000Z",
  ...r,
});

/**
 * What a distribution half-way through looks like: ubuntu's new version present in cloud-1, streaming to cloud-2,
 * refused by cloud-3's verification, waiting for a down edge cloud; its old version still present in cloud-1;
 * debian present in cloud-2.
 */
export function halfWaySnapshot(): ImageStatusSnapshot {
  return {
    writtenAt: "2026-12-06T12:00:05.000Z",
    running: true,
    rows: [
      row({ cloudId: "cloud-2", state: "transferring", bytesDone: 128 * MiB, totalBytes: 256 * MiB }),
      row({ cloudId: "cloud-1", state: "present", imageId: "img-1" }),
      row({
        cloudId: "cloud-3",
        state: "failed",
        code: "image_verification_failed",
        reason: "Glance's sha512 differs from the source's",
      }),
      row({ cloudId: "edge-0001", state: "pending", code: "cloud_unavailable", reason: "Keystone did not answer" }),
      row({ cloudId: "cloud-1", state: "present", version: V1, updatedAt: "2026-11-01T00:00:00.000Z" }),
      row({ cloudId: "cloud-2", state: "present", imageSet: "base", image: "debian-12" }),
    ],
  };
}
