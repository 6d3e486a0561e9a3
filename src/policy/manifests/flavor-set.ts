import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import { type Problem, selectClouds } from "../clouds.js";
import { CloudSelectorSchema, MetadataSchema } from "../common-schema.js";
import type { CompiledManifestBase } from "./base.js";

const Count = z.number().int().min(0);

/** One flavor of a {@link FlavorSetSchema}: Nova's fields, with sizes in Nova's units. */
export const FlavorSpecSchema = z
  .object({
    /** Nova's flavor name, unique in each cloud the set targets. */
    name: z.string().min(1).max(255),
    vcpus: z.number().int().min(1),
    /** MiB. */
    ram: z.number().int().min(1),
    /** Root disk, GiB (0: the image's size). */
    disk: Count,
    /** Ephemeral disk, GiB. */
    ephemeral: Count.default(0),
    /** Swap, MiB. */
    swap: Count.default(0),
    description: z.string().max(65535).optional(),
    /** Nova extra specs (`hw:cpu_policy`, `aggregate_instance_extra_specs:*`...), values as strings. */
    extraSpecs: z.record(z.string().min(1), z.string()).default({}),
    /** Public flavors are for every project; a private one only for `projects`. */
    public: z.boolean().default(true),
    /** Private flavors: the projects (names in `projectDomain`) that may use it. */
    projects: z.array(z.string().min(1)).default([]),
    /** Keystone domain of `projects`; default the cloud's Archway domain. */
    projectDomain: z.string().min(1).optional(),
  })
  .strict()
  .refine((f) => !f.public || f.projects.length === 0, {
    message: "projects apply to private flavors only (public: false)",
    path: ["projects"],
  });
export type FlavorSpec = z.infer<typeof FlavorSpecSchema>;

/**
 * `kind: FlavorSet`: flavors every targeted cloud holds. Archway creates, updates and removes only the flavors it
 * owns (marked as such); a flavor made by hand with the same name is a problem, never adopted silently.
 */
export const FlavorSetSchema = z
  .object({
    apiVersion: z.literal("archway.dev/v1"),
    kind: z.literal("FlavorSet"),
    metadata: MetadataSchema,
    spec: z
      .object({
        clouds: CloudSelectorSchema.default({}),
        flavors: z.array(FlavorSpecSchema).min(1),
      })
      .strict(),
  })
  .strict();
export type FlavorSetManifest = z.infer<typeof FlavorSetSchema>;

/** A FlavorSet with its clouds resolved. */
export interface CompiledFlavorSet extends CompiledManifestBase {
  kind: "FlavorSet";
  flavors: FlavorSpec[];
}

/** Resolves a FlavorSet's clouds and checks its flavors' names are unique within it. */
export function compileFlavorSet(
  m: FlavorSetManifest,
  clouds: readonly Cloud[],
  problem: Problem,
  origin: string,
): CompiledFlavorSet {
  const seen = new Set<string>();
  m.spec.flavors.forEach((f, i) => {
    if (seen.has(f.name)) problem(["spec", "flavors", i, "name"], `flavor '${f.name}' is listed twice in this set`);
    seen.add(f.name);
  });
  return {
    kind: "FlavorSet",
    name: m.metadata.name,
    origin,
    clouds: selectClouds(m.spec.clouds, clouds, problem)
      .map((c) => c.id)
      .sort(),
    flavors: m.spec.flavors,
  };
}
