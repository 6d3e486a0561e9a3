import type { ExtraSpecs } from "../../../openstack/index.js";
import { manifestsOf } from "../../../policy/index.js";
import type { ProjectRef } from "../../project-ref.js";
import type { SyncInput } from "../../resource.js";
import type { FlavorShape } from "./index.js";

/** A flavor the cloud should hold, from one or more FlavorSets that define it alike. */
export interface WantedFlavor extends FlavorShape {
  name: string;
  description: string | null;
  /** The sets' extra specs (without Archway's marks). */
  extraSpecs: ExtraSpecs;
  /** Private flavors: the projects that may use it. */
  projects: ProjectRef[];
  /** The FlavorSets asking for it, sorted. */
  sets: string[];
}

/** The flavors FlavorSets ask of one cloud, and the names two sets define differently (flavor name -> sets). */
export interface Wanted {
  byName: Map<string, WantedFlavor>;
  conflicts: Map<string, string[]>;
}

/**
 * Flavors of every FlavorSet in the cloud's desired state. Two sets may list one name when they define it alike;
 * defined differently, the name is a conflict for this cloud (a plan problem: the flavor is neither created,
 * changed nor deleted there until the sets agree), not a compile error, since only clouds both sets target clash.
 */
export function wantedFlavors(input: Pick<SyncInput, "cloud" | "desired">): Wanted {
  const byName = new Map<string, WantedFlavor>();
  const conflicts = new Map<string, string[]>();
  for (const set of manifestsOf(input.desired, "FlavorSet")) {
    for (const f of set.flavors) {
      const domain = f.projectDomain ?? input.cloud.domain;
      const wanted: WantedFlavor = {
        name: f.name,
        vcpus: f.vcpus,
        ram: f.ram,
        disk: f.disk,
        ephemeral: f.ephemeral,
        swap: f.swap,
        isPublic: f.public,
        description: f.description ?? null,
        extraSpecs: f.extraSpecs,
        projects: f.public ? [] : [...new Set(f.projects)].sort().map((name) => ({ domain, name })),
        sets: [set.name],
      };
      const clash = conflicts.get(f.name);
      if (clash) {
        clash.push(set.name);
        continue;
      }
      const other = byName.get(f.name);
      if (!other) byName.set(f.name, wanted);
      else if (sameDefinition(other, wanted)) other.sets = [...other.sets, set.name].sort();
      else {
        byName.delete(f.name);
        conflicts.set(f.name, [...other.sets, set.name]);
      }
    }
  }
  for (const sets of conflicts.values()) sets.sort();
  return { byName, conflicts };
}

function sameDefinition(a: WantedFlavor, b: WantedFlavor): boolean {
  return canonical({ ...a, sets: [] }) === canonical({ ...b, sets: [] });
}

function canonical(w: WantedFlavor): string {
  const specs = Object.entries(w.extraSpecs).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return JSON.stringify([w.vcpus, w.ram, w.disk, w.ephemeral, w.swap, w.isPublic, w.description, specs, w.projects]);
}
