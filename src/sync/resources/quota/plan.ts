import { QUOTA_RESOURCES, QUOTA_SERVICES, type QuotaService, type Quotas } from "../../../policy/index.js";
import { ProjectMap, type ProjectRef, projectLabel } from "../../project-ref.js";
import type { PlanContext, Planned } from "../../resource.js";
import { createdProjects, projects } from "../project/index.js";
import { type QuotaOperation, type QuotaSlice, quotas } from "./index.js";
import { quotaMarks, quotaTag } from "./mark.js";
import { quotaStoreOf, UNIFIED_LIMIT_NAMES } from "./names.js";
import { servicesOf } from "./observe.js";

/** What one plan accumulates. */
interface Acc {
  ctx: PlanContext;
  slice: QuotaSlice;
  operations: QuotaOperation[];
  problems: Set<string>;
  /** Projects left without their quotas per unavailable service (one problem per service, not per project). */
  blocked: Map<QuotaService, number>;
}

/**
 * Quotas: per project and service, set only the named limits that differ from what the cloud has; reset a service's
 * quotas of an owned project when no grant names them any more but Archway's mark says it set them. Projects this
 * plan creates get theirs after they exist (a later phase). Never a project Archway does not own, never anything in
 * a just-in-time run (those are about people, and quotas are about projects).
 */
export function planQuotas(ctx: PlanContext): Planned<QuotaOperation> {
  if (ctx.opts.people) return { operations: [], problems: [] };
  const acc: Acc = { ctx, slice: ctx.observed(quotas), operations: [], problems: new Set(), blocked: new Map() };
  const observed = ctx.observed(projects);
  const created = createdProjects(ctx);
  const desired = new ProjectMap<true>();
  for (const p of ctx.input.desired.projects) {
    desired.set(p, true);
    const seen = observed.get(p);
    if (!seen) {
      if (created.has(p)) planCreated(acc, p, p.quotas, p.policies);
    } else if (seen.owned) planOwned(acc, p, seen, p.quotas, p.policies);
    else if (servicesOf(p.quotas).length > 0)
      acc.problems.add(`project ${projectLabel(p)}: quotas not set (the project is not Archway's)`);
  }
  // Owned projects no policy names any more: the quotas Archway set go back to the cloud's defaults.
  for (const [ref, seen] of observed.entries())
    if (seen.owned && !desired.has(ref)) planOwned(acc, ref, seen, undefined, []);
  const problems = [...acc.problems];
  for (const [service, n] of acc.blocked)
    problems.push(
      `${service} quotas of ${n} project(s) not set in cloud ${ctx.input.cloud.id}: ${acc.slice.unavailable[service]}`,
    );
  return { operations: acc.operations, problems };
}

/** A project created in this run: every named limit (it has only the defaults). */
function planCreated(acc: Acc, ref: ProjectRef, q: Quotas | undefined, policies: string[]): void {
  for (const service of servicesOf(q)) {
    if (acc.slice.unavailable[service]) {
      count(acc.blocked, service);
      continue;
    }
    const limits = settable(acc, service, named(q, service));
    if (Object.keys(limits).length === 0) continue;
    const { domain, name } = ref;
    acc.operations.push({
      kind: "setQuota",
      domain,
      name,
      service,
      limits,
      mark: quotaTag(service, Object.keys(limits)),
      policies,
    });
  }
}

/** An owned project: set what differs, drop what Archway set and no grant names, reset a service no grant names. */
function planOwned(
  acc: Acc,
  ref: ProjectRef,
  seen: { id: string; tags: string[] },
  q: Quotas | undefined,
  policies: string[],
): void {
  const marks = quotaMarks(seen.tags);
  const { domain, name } = ref;
  for (const service of QUOTA_SERVICES) {
    const want = named(q, service);
    const mark = marks[service];
    if (Object.keys(want).length === 0 && !mark) continue;
    if (acc.slice.unavailable[service]) {
      count(acc.blocked, service);
      continue;
    }
    const state = acc.slice.projects.get(ref)?.[service];
    if (state?.status !== "ok") {
      acc.problems.add(
        `${service} quotas of ${projectLabel(ref)} could not be read: ${state?.error ?? "not observed"}; left as they are`,
      );
      continue;
    }
    const resources = mark ? [...mark.resources].sort() : [];
    if (Object.keys(want).length === 0) {
      const unmark = mark?.tags ?? [];
      acc.operations.push({
        kind: "resetQuota",
        domain,
        name,
        projectId: seen.id,
        service,
        resources,
        unmark,
        policies,
      });
      continue;
    }
    const target = settable(acc, service, want);
    const drop = resources.filter((r) => want[r] === undefined);
    // The service's own API resets a project's whole set at once: after a reset, every named limit is written again.
    const rewrite = drop.length > 0 && quotaStoreOf(acc.ctx.input.cloud, service) === "service";
    const limits: Record<string, number> = {};
    for (const [r, v] of Object.entries(target)) if (rewrite || state.limits[r] !== v) limits[r] = v;
    const tag = quotaTag(service, Object.keys(target));
    const unmark = (mark?.tags ?? []).filter((t) => t !== tag);
    const marked = mark?.tags.includes(tag) ?? false;
    if (Object.keys(limits).length === 0 && drop.length === 0 && marked && unmark.length === 0) continue;
    acc.operations.push({
      kind: "setQuota",
      domain,
      name,
      projectId: seen.id,
      service,
      limits,
      ...(drop.length > 0 ? { drop } : {}),
      ...(marked ? {} : { mark: tag }),
      ...(unmark.length > 0 ? { unmark } : {}),
      policies,
    });
  }
}

/** The limits a grant names for one service, in the schema's order. */
function named(q: Quotas | undefined, service: QuotaService): Record<string, number> {
  const limits: Record<string, number | undefined> | undefined = q?.[service];
  const out: Record<string, number> = {};
  if (!limits) return out;
  for (const r of QUOTA_RESOURCES[service]) {
    const v = limits[r];
    if (v !== undefined) out[r] = v;
  }
  return out;
}

/**
 * The limits that can be written. Keystone refuses a project limit without a registered default of the same service
 * and resource: such a resource is a problem ("register a default first"), the others are still set.
 */
function settable(acc: Acc, service: QuotaService, want: Record<string, number>): Record<string, number> {
  if (quotaStoreOf(acc.ctx.input.cloud, service) === "service") return want;
  const registered = acc.slice.registered[service] ?? {};
  const out: Record<string, number> = {};
  for (const [r, v] of Object.entries(want)) {
    if (registered[r]) out[r] = v;
    else
      acc.problems.add(
        `${service} ${r} not set: cloud ${acc.ctx.input.cloud.id} has no registered limit ` +
          `${UNIFIED_LIMIT_NAMES[service]?.[r] ?? r} in Keystone (register a default first)`,
      );
  }
  return out;
}

function count(map: Map<QuotaService, number>, service: QuotaService): void {
  map.set(service, (map.get(service) ?? 0) + 1);
}
