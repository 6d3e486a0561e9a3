import { z } from "zod";

/**
 * Zod schemas of Nova's flavor replies at microversion 2.61 (flavors carry `description` and `extra_specs`).
 * Nova answers `swap` as `""` when a flavor has none: read as 0, never as a missing field.
 */

/** Extra specs: string keys and values (Nova stores both as strings). */
export const ExtraSpecsSchema = z.record(z.string(), z.string());
/** A flavor's extra specs, keyed by name. */
export type ExtraSpecs = z.infer<typeof ExtraSpecsSchema>;

/** A Nova flavor as Archway reads it (sizes in Nova's units: MiB of RAM and swap, GiB of disk and ephemeral). */
export const FlavorSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    vcpus: z.number().int(),
    ram: z.number().int(),
    disk: z.number().int(),
    swap: z.union([z.number().int(), z.literal("")]).transform((v) => (v === "" ? 0 : v)),
    "OS-FLV-EXT-DATA:ephemeral": z.number().int().default(0),
    "os-flavor-access:is_public": z.boolean().default(true),
    description: z.string().nullish(),
    extra_specs: ExtraSpecsSchema.default({}),
  })
  .transform((f) => ({
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ram: f.ram,
    disk: f.disk,
    swap: f.swap,
    ephemeral: f["OS-FLV-EXT-DATA:ephemeral"],
    isPublic: f["os-flavor-access:is_public"],
    description: f.description ?? null,
    extraSpecs: f.extra_specs,
  }));
/** A flavor, with Nova's prefixed fields under plain names. */
export type Flavor = z.infer<typeof FlavorSchema>;

/** `GET /flavors/detail`: the page and, when there is more, the marker of the next one. */
export const FlavorPageSchema = z
  .object({
    flavors: z.array(FlavorSchema),
    flavors_links: z.array(z.object({ rel: z.string(), href: z.string() })).optional(),
  })
  .transform((v) => ({ flavors: v.flavors, more: (v.flavors_links ?? []).some((l) => l.rel === "next") }));

/** `POST /flavors`, `PUT /flavors/{id}`: the one flavor. */
export const OneFlavorSchema = z.object({ flavor: FlavorSchema }).transform((v) => v.flavor);

/** `GET|POST /flavors/{id}/os-extra_specs`. */
export const ExtraSpecsReplySchema = z.object({ extra_specs: ExtraSpecsSchema }).transform((v) => v.extra_specs);

/** `GET /flavors/{id}/os-flavor-access` and the access actions: the project ids that may use a private flavor. */
export const FlavorAccessReplySchema = z
  .object({ flavor_access: z.array(z.object({ flavor_id: z.string(), tenant_id: z.string() })) })
  .transform((v) => v.flavor_access.map((a) => a.tenant_id).sort());
