import type { ImageCloudState, ImageStatusRow, ImageStatusSnapshot } from "./status.js";

/**
 * What `archway images status` and the admin grid both show of the status snapshot: the same filters, the same
 * counts and the same grouping, as pure functions of the snapshot (the readers never touch a cloud).
 */

/** The states in the order every report lists them. */
export const IMAGE_STATES: readonly ImageCloudState[] = ["present", "transferring", "failed", "pending"];

/** Filters of the readers: one cloud (its id), one image (its name in Glance, every version). */
export interface ImageStatusFilter {
  cloud?: string;
  image?: string;
}

/** The snapshot with only the rows `filter` keeps (same shape, so it still satisfies the schema). */
export function filterImageStatus(snapshot: ImageStatusSnapshot, filter: ImageStatusFilter): ImageStatusSnapshot {
  const rows = snapshot.rows.filter(
    (r) => (!filter.cloud || r.cloudId === filter.cloud) && (!filter.image || r.image === filter.image),
  );
  return { ...snapshot, rows };
}

/** How many rows are in each state. */
export type ImageStateCounts = Record<ImageCloudState, number> & { total: number };

/** Counts rows per state. */
export function countImageStates(rows: readonly ImageStatusRow[]): ImageStateCounts {
  const counts: ImageStateCounts = { present: 0, transferring: 0, failed: 0, pending: 0, total: rows.length };
  for (const r of rows) counts[r.state]++;
  return counts;
}

/** One image version (ImageSet, image, version) and its rows, one per cloud in cloud order. */
export interface ImageVersionStatus {
  imageSet: string;
  image: string;
  version: string;
  rows: ImageStatusRow[];
  counts: ImageStateCounts;
  /** The latest `updatedAt` of its rows: the newer version of an image comes first. */
  updatedAt: string;
}

/**
 * The rows grouped per image version: by ImageSet and image name, then the most recently updated version first.
 * Nested maps by field: no separator can make two images collide.
 */
export function groupImageStatus(rows: readonly ImageStatusRow[]): ImageVersionStatus[] {
  const sets = new Map<string, Map<string, Map<string, ImageStatusRow[]>>>();
  for (const r of rows) {
    const images = sets.get(r.imageSet) ?? new Map<string, Map<string, ImageStatusRow[]>>();
    sets.set(r.imageSet, images);
    const versions = images.get(r.image) ?? new Map<string, ImageStatusRow[]>();
    images.set(r.image, versions);
    const list = versions.get(r.version) ?? [];
    versions.set(r.version, list);
    list.push(r);
  }
  const groups: ImageVersionStatus[] = [];
  for (const [imageSet, images] of [...sets].sort(byKey))
    for (const [image, versions] of [...images].sort(byKey)) {
      const ofImage = [...versions].map(([version, list]): ImageVersionStatus => {
        const sorted = [...list].sort((a, b) => a.cloudId.localeCompare(b.cloudId));
        // ISO 8601 times in UTC sort as text.
        const updatedAt =
          sorted
            .map((r) => r.updatedAt)
            .sort()
            .at(-1) ?? "";
        return { imageSet, image, version, rows: sorted, counts: countImageStates(sorted), updatedAt };
      });
      ofImage.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.version.localeCompare(b.version));
      groups.push(...ofImage);
    }
  return groups;
}

const byKey = (a: [string, unknown], b: [string, unknown]) => a[0].localeCompare(b[0]);

/** Bytes for people: binary units, one decimal above KiB (`268435456` -> `256.0 MiB`). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A transferring row's progress as a fraction (0..1), or undefined when its total is not known. */
export function progressOf(row: Pick<ImageStatusRow, "bytesDone" | "totalBytes">): number | undefined {
  if (row.totalBytes === undefined || row.totalBytes === 0) return undefined;
  return Math.min(1, (row.bytesDone ?? 0) / row.totalBytes);
}

/**
 * What a row says beyond its state: bytes for a transfer (`128.0 MiB of 256.0 MiB (50%)`), code and reason for a
 * failed or pending row, nothing for a present one.
 */
export function rowDetail(row: ImageStatusRow): string {
  if (row.state === "transferring") {
    const done = formatBytes(row.bytesDone ?? 0);
    const fraction = progressOf(row);
    if (fraction === undefined || row.totalBytes === undefined) return `${done} sent`;
    return `${done} of ${formatBytes(row.totalBytes)} (${Math.floor(fraction * 100)}%)`;
  }
  if (row.state === "failed" || row.state === "pending")
    return [row.code, row.reason].filter((s): s is string => Boolean(s)).join(": ");
  return "";
}

/** A version shortened for display: the algorithm and the first 12 hex digits (`sha512:0123456789ab`). */
export function shortVersion(version: string): string {
  const colon = version.indexOf(":");
  return colon < 0 ? version.slice(0, 12) : `${version.slice(0, colon)}:${version.slice(colon + 1, colon + 13)}`;
}
