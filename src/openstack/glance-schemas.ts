import { z } from "zod";

/** Image states of Glance v2 (`importing` and `uploading` come with the interoperable import). */
export const IMAGE_STATUSES = [
  "queued",
  "saving",
  "uploading",
  "importing",
  "active",
  "killed",
  "deleted",
  "pending_delete",
  "deactivated",
] as const;

/**
 * One Glance v2 image. Loose: custom properties (`os_distro`, `hw_*`, Archway's marks) are top-level keys of the
 * same object, kept as they come; {@link imageProperties} picks them out.
 */
export const ImageSchema = z.looseObject({
  id: z.string(),
  name: z.string().nullable().optional(),
  status: z.string(),
  visibility: z.string().optional(),
  protected: z.boolean().optional(),
  size: z.number().nullable().optional(),
  checksum: z.string().nullable().optional(),
  os_hash_algo: z.string().nullable().optional(),
  os_hash_value: z.string().nullable().optional(),
  disk_format: z.string().nullable().optional(),
  container_format: z.string().nullable().optional(),
  min_disk: z.number().optional(),
  min_ram: z.number().optional(),
  owner: z.string().nullable().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  tags: z.array(z.string()).optional(),
});
export type Image = z.infer<typeof ImageSchema>;

/** A page of `GET /v2/images`; `next` is the path (with query) of the following page. */
export const ImageListSchema = z.object({ images: z.array(ImageSchema), next: z.string().optional() });

/** Keys Glance itself defines: everything else on an image is a custom property. */
const CORE_KEYS = new Set([
  "id",
  "name",
  "status",
  "visibility",
  "protected",
  "os_hidden",
  "size",
  "virtual_size",
  "checksum",
  "os_hash_algo",
  "os_hash_value",
  "disk_format",
  "container_format",
  "min_disk",
  "min_ram",
  "owner",
  "created_at",
  "updated_at",
  "tags",
  "self",
  "file",
  "schema",
  "locations",
  "direct_url",
  "stores",
]);

/** The custom string properties of an image (`os_distro`, `hw_*`, marks), without Glance's own fields. */
export function imageProperties(image: Image): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(image)) {
    if (!CORE_KEYS.has(k) && typeof v === "string") out[k] = v;
  }
  return out;
}
