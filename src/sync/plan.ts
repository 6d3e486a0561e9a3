import type { ObservedCloud } from "./observe.js";
import { type Action, actionOf, isDestructive, type Operation } from "./operations.js";
import type { PlanContext, PlanOptions, SyncInput } from "./resource.js";
import { RESOURCES } from "./resources/index.js";
import { orphanProjects } from "./resources/project/index.js";

/** Everything that must change in one cloud, in plan order, and what cannot be done (and why). */
export interface CloudPlan {
  cloudId: string;
  operations: Operation[];
  /** Conflicts with objects Archway does not own, unknown roles, missing projects: reported, never forced. */
  problems: string[];
  counts: Record<Action, number>;
  /** Operations that take something away (they count against `maxDeletesPerRun`). */
  destructive: number;
  /**
   * Projects this deployment created that no policy asks for any more (`<domain>/<name>`), sorted. Reported, never
   * deleted: a project may hold servers and volumes; deleting it is a person's decision.
   */
  orphans: string[];
}

/**
 * Diffs desired against observed state for one cloud: every registered resource's planner, in registry order.
 * Pure: no I/O, so `sync plan` and tests can run it freely. Only owned objects are ever updated, revoked, disabled
 * or deleted.
 */
export function planCloud(input: SyncInput, observed: ObservedCloud, opts: PlanOptions): CloudPlan {
  const memos = new Map<unknown, unknown>();
  const ctx: PlanContext = {
    input,
    opts,
    observed: (resource) => observed.of(resource),
    inScope: (identityId) => !opts.people || opts.people.has(identityId),
    memo<T>(derive: (c: PlanContext) => T): T {
      if (!memos.has(derive)) memos.set(derive, derive(ctx));
      return memos.get(derive) as T;
    },
  };
  const operations: Operation[] = [];
  const problems: string[] = [];
  for (const resource of RESOURCES) {
    const planned = resource.plan(ctx);
    operations.push(...planned.operations);
    if (planned.problems) problems.push(...planned.problems);
  }
  return finishPlan(input.cloud.id, operations, problems, orphanProjects(ctx));
}

/** A plan from its operations: counts per verb and the number of destructive operations. */
export function finishPlan(cloudId: string, ops: Operation[], problems: string[], orphans: string[] = []): CloudPlan {
  const counts: Record<Action, number> = { create: 0, update: 0, revoke: 0, disable: 0, delete: 0 };
  for (const op of ops) counts[actionOf(op)]++;
  return { cloudId, operations: ops, problems, counts, destructive: ops.filter(isDestructive).length, orphans };
}

export type { PlanOptions } from "./resource.js";
