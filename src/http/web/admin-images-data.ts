import { z } from "zod";
import {
  countImageStates,
  filterImageStatus,
  groupImageStatus,
  ImageCloudStateSchema,
  type ImageStateCounts,
  type ImageStatusRow,
  type ImageStatusSnapshot,
} from "../../images/index.js";

/** While transfers run, the page reloads itself this often (a meta refresh: the pages' CSP allows no script). */
export const IMAGES_REFRESH_SECONDS = 5;

/** The filters of `/admin/images` and `/api/v1/admin/images`. */
export const ImageQuerySchema = z.object({
  /** A cloud id: only that cloud. */
  cloud: z.string().max(100).optional().catch(undefined),
  /** An image name (its name in Glance): only that image, every version. */
  image: z.string().max(255).optional().catch(undefined),
  /** Only the clouds where some image is in this state (the page; the JSON keeps every row of those filters). */
  state: ImageCloudStateSchema.optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
export type ImageQuery = z.infer<typeof ImageQuerySchema>;

/** A column of the grid: one image version. */
export interface ImageColumn {
  imageSet: string;
  image: string;
  version: string;
  counts: ImageStateCounts;
}

/** A row of the grid: one cloud, a cell per column (undefined where that version is not wanted in the cloud). */
export interface CloudImagesRow {
  cloudId: string;
  cells: (ImageStatusRow | undefined)[];
}

/** What the page shows: the grid of one page of clouds, with the counts of everything the filters keep. */
export interface ImageGridView {
  columns: ImageColumn[];
  rows: CloudImagesRow[];
  /** Counts over every row the filters keep (every page). */
  counts: ImageStateCounts;
  /** Clouds the filters keep, counted before paging. */
  clouds: number;
  /** Image names in the snapshot (the filter's suggestions). */
  imageNames: string[];
  pageNumber: number;
  pages: number;
}

/** The JSON of `/api/v1/admin/images`: the snapshot with the rows of `query.cloud` and `query.image` only. */
export function filteredImageStatus(
  snapshot: ImageStatusSnapshot | null,
  query: Pick<ImageQuery, "cloud" | "image">,
): ImageStatusSnapshot | null {
  return snapshot && filterImageStatus(snapshot, { cloud: query.cloud, image: query.image });
}

/**
 * Filters and pages the snapshot into a grid: image versions as columns (few), clouds as rows (up to thousands,
 * paged). Pure: the snapshot was read already.
 */
export function imageGridView(snapshot: ImageStatusSnapshot | null, query: ImageQuery, pageSize = 50): ImageGridView {
  const all = snapshot?.rows ?? [];
  const rows = snapshot ? filterImageStatus(snapshot, query).rows : [];
  const inState = query.state ? new Set(rows.filter((r) => r.state === query.state).map((r) => r.cloudId)) : undefined;
  const kept = inState ? rows.filter((r) => inState.has(r.cloudId)) : rows;
  const groups = groupImageStatus(kept);
  const cloudIds = [...new Set(kept.map((r) => r.cloudId))].sort((a, b) => a.localeCompare(b));
  const pages = Math.max(1, Math.ceil(cloudIds.length / pageSize));
  const pageNumber = Math.min(query.page, pages);
  const shown = cloudIds.slice((pageNumber - 1) * pageSize, pageNumber * pageSize);
  const byCloud = groups.map((g) => new Map(g.rows.map((r) => [r.cloudId, r])));
  return {
    columns: groups.map(({ imageSet, image, version, counts }) => ({ imageSet, image, version, counts })),
    rows: shown.map((cloudId) => ({ cloudId, cells: byCloud.map((m) => m.get(cloudId)) })),
    counts: countImageStates(kept),
    clouds: cloudIds.length,
    imageNames: [...new Set(all.map((r) => r.image))].sort(),
    pageNumber,
    pages,
  };
}
