import type { ExtraSpecs } from "../../../openstack/index.js";
import { manifestsOf } from "../../../policy/index.js";
import { whose } from "../../ownership.js";
import { projectLabel } from "../../project-ref.js";
import type { PlanContext, Planned } from "../../resource.js";
import { createdProjects, projects } from "../project/index.js";
import { type FlavorOperation, type FlavorShape, flavors } from "./index.js";
import { flavorMarks } from "./marks.js";
import type { ObservedFlavor } from "./observe.js";
import { type WantedFlavor, wantedFlavors } from "./wanted.js";

const SHAPE: (keyof FlavorShape)[] = ["vcpus", "ram", "disk", "ephemeral", "swap", "isPublic"];

/**
 * Flavors: create what a FlavorSet asks for; on this deployment's own flavors, change description and extra specs in
 * place, recreate when a size or the visibility changed (Nova cannot change them; destructive), give and take
 * private flavors to and from projects, and delete what no set asks for any more. A flavor of a wanted name that is
 * not this deployment's is a problem, never touched. Just-in-time runs plan nothing here.
 */
export function planFlavors(ctx: PlanContext): Planned<FlavorOperation> {
  const operations: FlavorOperation[] = [];
  const problems: string[] = [];
  if (ctx.opts.people) return { operations };
  const observed = ctx.observed(flavors);
  const { byName: wanted, conflicts } = wantedFlavors(ctx.input);
  if (!observed.compute) {
    if (wanted.size > 0 || conflicts.size > 0)
      problems.push(`no compute service in the cloud's catalog: flavors not synced (${setsOf(ctx).join(", ")})`);
    return { operations, problems };
  }
  for (const [name, sets] of conflicts)
    problems.push(
      `flavor ${name} is defined differently by FlavorSets ${sets.join(", ")}: not synced until they agree`,
    );
  for (const want of wanted.values()) {
    const seen = observed.byName.get(want.name);
    const extraSpecs = { ...want.extraSpecs, ...flavorMarks(ctx.input.ownership, want.sets) };
    const base = { name: want.name, policies: want.sets };
    if (!seen) {
      operations.push({ kind: "createFlavor", ...base, ...shapeOf(want), description: want.description, extraSpecs });
      operations.push(...grants(ctx, want, [], problems));
      continue;
    }
    if (seen.mark.owner !== "self") {
      problems.push(`flavor ${want.name} exists ${whose(seen.mark)}: not changed (FlavorSet ${want.sets.join(", ")})`);
      continue;
    }
    const changed = SHAPE.filter((k) => seen[k] !== want[k]);
    if (changed.length > 0) {
      operations.push({
        kind: "recreateFlavor",
        ...base,
        ...shapeOf(want),
        description: want.description,
        extraSpecs,
        flavorId: seen.id,
        changed,
      });
      operations.push(...grants(ctx, want, [], problems));
      continue;
    }
    const update = specChanges(seen.extraSpecs, extraSpecs);
    if (update.set || update.unset || seen.description !== want.description)
      operations.push({
        kind: "updateFlavor",
        ...base,
        flavorId: seen.id,
        ...(seen.description !== want.description ? { description: want.description } : {}),
        ...update,
      });
    if (!want.isPublic) operations.push(...grants(ctx, want, seen.access ?? [], problems), ...revokes(ctx, want, seen));
  }
  for (const seen of observed.byName.values()) {
    if (seen.mark.owner !== "self" || wanted.has(seen.name) || conflicts.has(seen.name)) continue;
    operations.push({ kind: "deleteFlavor", name: seen.name, flavorId: seen.id, policies: [] });
  }
  return { operations, problems };
}

function shapeOf(f: FlavorShape): FlavorShape {
  const { vcpus, ram, disk, ephemeral, swap, isPublic } = f;
  return { vcpus, ram, disk, ephemeral, swap, isPublic };
}

/** Extra specs to set (new or different) and to unset (not wanted; Archway's marks are among the wanted ones). */
function specChanges(have: ExtraSpecs, want: ExtraSpecs): { set?: ExtraSpecs; unset?: string[] } {
  const set = Object.fromEntries(Object.entries(want).filter(([k, v]) => have[k] !== v));
  const unset = Object.keys(have)
    .filter((k) => !(k in want))
    .sort();
  return { ...(Object.keys(set).length > 0 ? { set } : {}), ...(unset.length > 0 ? { unset } : {}) };
}

/** The id of a project a set names: observed by the project resource, looked up by the flavor resource, or null. */
function accessProjectId(ctx: PlanContext, ref: { domain: string; name: string }): string | null {
  return ctx.observed(projects).get(ref)?.id ?? ctx.observed(flavors).projectIds.get(ref) ?? null;
}

/** Access to give: projects the flavor is wanted for that do not have it (or that this plan creates). */
function grants(ctx: PlanContext, want: WantedFlavor, have: readonly string[], problems: string[]): FlavorOperation[] {
  const out: FlavorOperation[] = [];
  const created = createdProjects(ctx);
  for (const ref of want.projects) {
    const id = accessProjectId(ctx, ref);
    if (id === null && !created.has(ref)) {
      problems.push(`flavor ${want.name}: project ${projectLabel(ref)} does not exist, not given the flavor`);
      continue;
    }
    if (id === null || !have.includes(id))
      out.push({ kind: "grantFlavor", flavor: want.name, project: ref, policies: want.sets });
  }
  return out;
}

/** Access to take away: projects that have the owned flavor and are not among those it is wanted for. */
function revokes(ctx: PlanContext, want: WantedFlavor, seen: ObservedFlavor): FlavorOperation[] {
  const wantedIds = new Set(want.projects.map((ref) => accessProjectId(ctx, ref)));
  const labels = new Map<string, string>();
  for (const [ref, p] of ctx.observed(projects).entries()) labels.set(p.id, projectLabel(ref));
  for (const [ref, id] of ctx.observed(flavors).projectIds.entries()) labels.set(id, projectLabel(ref));
  return (seen.access ?? [])
    .filter((id) => !wantedIds.has(id))
    .map((id) => ({
      kind: "revokeFlavor" as const,
      flavor: want.name,
      flavorId: seen.id,
      projectId: id,
      project: labels.get(id) ?? id,
      policies: [],
    }));
}

/** The names of the FlavorSets targeting the cloud. */
function setsOf(ctx: PlanContext): string[] {
  return manifestsOf(ctx.input.desired, "FlavorSet")
    .map((s) => s.name)
    .sort();
}
