import { isArchwayError } from "../../../errors.js";
import { type ExtraSpecs, type Flavor, type FlavorCreate, mapLimit } from "../../../openstack/index.js";
import type { Mark } from "../../ownership.js";
import { ProjectMap } from "../../project-ref.js";
import type { ObserveContext } from "../../resource.js";
import { domains } from "../domain/index.js";
import { projects } from "../project/index.js";
import { flavorMark } from "./marks.js";
import { wantedFlavors } from "./wanted.js";

/** A Nova flavor as sync sees it, with whose it is. */
export interface ObservedFlavor extends Omit<FlavorCreate, "description"> {
  id: string;
  description: string | null;
  extraSpecs: ExtraSpecs;
  mark: Mark;
  /** The project ids that may use it: read for this deployment's private flavors only. */
  access?: string[];
}

/** What the flavor resource read from one cloud. */
export interface FlavorsObserved {
  /** False when the cloud's catalog has no compute service: nothing was read. */
  compute: boolean;
  /** Every flavor by name (Nova keeps names unique); empty in just-in-time runs (nothing read). */
  byName: Map<string, ObservedFlavor>;
  /** Projects private flavors are for, by name: those the project resource does not observe, looked up here. */
  projectIds: ProjectMap<string>;
}

/**
 * Every flavor of the cloud in one list call (extra specs included), the access lists of this deployment's private
 * flavors, and the ids of the projects the sets name that policies do not. Read on every full run, even where no
 * set targets the cloud: an owned flavor no set asks for any more is deleted. Just-in-time runs read nothing.
 */
export async function observeFlavors(ctx: ObserveContext): Promise<FlavorsObserved> {
  const out: FlavorsObserved = { compute: true, byName: new Map(), projectIds: new ProjectMap() };
  if (ctx.opts.people) return out;
  let list: Flavor[];
  try {
    list = await ctx.clients.flavors().list();
  } catch (err) {
    if (isArchwayError(err) && err.code === "endpoint_not_found") return { ...out, compute: false };
    throw err;
  }
  const ownership = ctx.input.ownership;
  for (const f of list) out.byName.set(f.name, { ...f, mark: flavorMark(f.extraSpecs, ownership) });
  const ownedPrivate = [...out.byName.values()].filter((f) => !f.isPublic && f.mark.owner === "self");
  const [, ids] = await Promise.all([
    mapLimit(ownedPrivate, ctx.clients.limiter.max, async (f) => {
      f.access = await ctx.clients.flavors().access(f.id);
    }),
    accessProjects(ctx),
  ]);
  out.projectIds = ids;
  return out;
}

/** Ids of the projects the wanted private flavors name, other than those the project resource observed. */
async function accessProjects(ctx: ObserveContext): Promise<ProjectMap<string>> {
  const refs = new ProjectMap<true>();
  for (const w of wantedFlavors(ctx.input).byName.values()) for (const ref of w.projects) refs.set(ref, true);
  const out = new ProjectMap<string>();
  if (refs.size === 0) return out;
  const [seen, { byName }] = await Promise.all([ctx.slice(projects), ctx.slice(domains)]);
  const missing = [...refs.entries()].map(([ref]) => ref).filter((ref) => !seen.has(ref) && byName.has(ref.domain));
  await mapLimit(missing, ctx.clients.limiter.max, async (ref) => {
    const [found] = await ctx.clients.keystone.listProjects({ domainId: byName.get(ref.domain), name: ref.name });
    if (found) out.set(ref, found.id);
  });
  return out;
}
