import type { ExtraSpecs } from "../../../openstack/index.js";
import { classifyMark, type Mark, type Ownership } from "../../ownership.js";

/**
 * Archway's marks on a Nova flavor, as extra specs: Nova has no tags or extra attributes on flavors, and extra
 * specs are read in the same list call as the flavors (microversion 2.61), changed in place, and keys under a
 * namespace other than the filters' own (`capabilities:`, `aggregate_instance_extra_specs:`) are skipped by the
 * scheduler's filters, so the marks never change where servers land. The description stays the manifest's.
 */

/** Extra spec on every flavor Archway made: the `deploymentId` of the deployment that owns it. */
export const FLAVOR_MARK = "archway:managed";
/** Extra spec: the FlavorSet(s) that ask for the flavor, comma-separated, sorted (what a person reads in Nova). */
export const FLAVOR_SET_MARK = "archway:set";
/** Extra specs under this namespace are Archway's own: a FlavorSet cannot set them, sync removes strays. */
export const ARCHWAY_SPEC_PREFIX = "archway:";

/** Whose a flavor is, from its extra specs (an empty {@link FLAVOR_MARK} is the mark without a deployment). */
export function flavorMark(specs: ExtraSpecs, ownership: Ownership): Mark {
  const dep = specs[FLAVOR_MARK];
  return classifyMark(dep !== undefined, dep ? [dep] : [], ownership);
}

/** The marks a flavor asked for by `sets` carries. */
export function flavorMarks(ownership: Ownership, sets: readonly string[]): ExtraSpecs {
  return { [FLAVOR_MARK]: ownership.deploymentId, [FLAVOR_SET_MARK]: [...sets].sort().join(",") };
}
