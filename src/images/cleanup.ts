import { isArchwayError } from "../errors.js";
import type { Image } from "../openstack/glance.js";
import type { ImageApi } from "./types.js";

/** States of an image whose data never arrived whole: an interrupted upload or import. */
export const UNFINISHED_STATUSES: ReadonlySet<string> = new Set([
  "queued",
  "saving",
  "uploading",
  "importing",
  "killed",
]);

/** What a sweep did in one cloud. */
export interface SweepResult {
  deleted: string[];
  /** Images the sweep could not delete, with why. */
  failed: { id: string; reason: string }[];
}

/**
 * Deletes Archway's unfinished images in one cloud: those carrying every property of `mark` (so never a hand-made
 * image, which has no mark) whose status says the data never arrived whole, older than `minAgeMs` (so a transfer in
 * flight elsewhere is not cut), except `keep`. Run before a sync and after a crash.
 */
export async function sweepLeftovers(
  glance: ImageApi,
  mark: Record<string, string>,
  opts: { minAgeMs?: number; keep?: ReadonlySet<string>; now?: () => number } = {},
): Promise<SweepResult> {
  if (Object.keys(mark).length === 0)
    throw new RangeError("a sweep needs a mark: it would otherwise match hand-made images");
  const now = (opts.now ?? Date.now)();
  const images = await glance.list({ properties: mark });
  const out: SweepResult = { deleted: [], failed: [] };
  for (const image of images) {
    if (!isOurs(image, mark) || !UNFINISHED_STATUSES.has(image.status) || opts.keep?.has(image.id)) continue;
    const age = now - Date.parse(image.updated_at ?? image.created_at ?? "");
    if (opts.minAgeMs && !(age >= opts.minAgeMs)) continue;
    try {
      await glance.delete(image.id, { unprotect: image.protected === true });
      out.deleted.push(image.id);
    } catch (err) {
      out.failed.push({ id: image.id, reason: isArchwayError(err) ? err.message : String(err) });
    }
  }
  return out;
}

/** True when the image carries every property of the mark (checked again here: a filter is not a guarantee). */
export function isOurs(image: Image, mark: Record<string, string>): boolean {
  return Object.entries(mark).every(([k, v]) => (image as Record<string, unknown>)[k] === v);
}
