import { randomUUID } from "node:crypto";
import type { Cloud } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import { type EnumerableSource, type Identity, OffboardedPeople, StoredKeys } from "../identity/index.js";
import { mapLimit } from "../openstack/index.js";
import { type CompiledPolicySet, type DesiredCloudState, desiredState } from "../policy/index.js";
import { getJson, type Store, setJson } from "../store/index.js";
import { type CloudRunResult, emptyDesired, type SyncEngine } from "./engine.js";
import { describe } from "./operations.js";
import type { CloudPlan } from "./plan.js";
import type { JobResult, SyncJob, SyncQueue } from "./queue.js";
import { acquireRunLocks, type RunLockOptions } from "./run-lock.js";
import { type SavedPlan, SavedPlanSchema, savedCloudPlan } from "./saved-plan.js";

/** What the triggers need. */
export interface SyncServiceDeps {
  engine: SyncEngine;
  queue: SyncQueue;
  clouds: readonly Cloud[];
  /** The current compiled policies (a function, so a reload is picked up by the next run). */
  policies: () => CompiledPolicySet;
  sources: readonly EnumerableSource[];
  store: Store;
  newRunId?: () => string;
  /** How many clouds `plan` observes at once (`sync.concurrency`). */
  concurrency: number;
  /** Keys people added on the web pages, merged into each identity's `sshKeys`; default: read from `store`. */
  storedKeys?: Pick<StoredKeys, "merge">;
  /** Expiry of the run locks (default 60 s, renewed while a run lasts) and how often a waiting run looks again. */
  runLock?: Pick<RunLockOptions, "ttlMs" | "pollMs">;
}

/**
 * The triggers of sync, wiring identity sources and policies to the engine through the queue: a full run (every
 * person, every cloud), an incremental run (people changed since the last mark, their grants only), and a
 * just-in-time run for one person at login (their grants only, in the clouds they get something in).
 */
export class SyncService {
  private readonly newRunId: () => string;
  private readonly storedKeys: Pick<StoredKeys, "merge">;
  private readonly offboarded: OffboardedPeople;

  constructor(private readonly deps: SyncServiceDeps) {
    this.offboarded = new OffboardedPeople({ store: deps.store });
    this.storedKeys = deps.storedKeys ?? new StoredKeys({ store: deps.store });
    this.newRunId =
      deps.newRunId ?? (() => `${new Date().toISOString().replace(/[-:.]/g, "")}-${randomUUID().slice(0, 8)}`);
  }

  /** Everyone, from every enumerable source. A source that fails aborts: a partial list would look like departures. */
  async identities(changedSince?: Map<string, string>): Promise<Identity[]> {
    const out: Identity[] = [];
    for (const source of this.deps.sources) {
      try {
        for await (const identity of source.list({ pageSize: 500, changedSince: changedSince?.get(source.id) }))
          out.push(identity);
      } catch (err) {
        throw new ArchwayError(
          "source_unavailable",
          `identity source ${source.id} could not be listed (${(err as Error).message}); sync not started, so nobody loses access by mistake`,
          503,
          { cause: err },
        );
      }
    }
    // Offboarded people stay out even while the directory lists them (the kill switch): no run re-enables them.
    const offboarded = await this.offboarded.all();
    const kept = offboarded.size > 0 ? out.filter((i) => !offboarded.has(i.id)) : out;
    // Stored keys join the directory's, so a full run does not remove keys a person added on the web pages.
    return mapLimit(kept, this.deps.concurrency, (identity) => this.storedKeys.merge(identity));
  }

  /** Desired state per configured cloud (clouds where nobody gets anything get an empty state). */
  desired(
    identities: Iterable<Identity>,
    cloudIds = this.deps.clouds.map((c) => c.id),
  ): Map<string, DesiredCloudState> {
    const computed = desiredState(identities, this.deps.policies());
    return new Map(cloudIds.map((id) => [id, computed.get(id) ?? emptyDesired(id)]));
  }

  private cloudIds(cloudId?: string): string[] {
    if (!cloudId) return this.deps.clouds.map((c) => c.id);
    this.deps.engine.cloud(cloudId);
    return [cloudId];
  }

  /** Plans every cloud (or one) without writing; a cloud that cannot be read is reported, not thrown. */
  async plan(opts: { cloudId?: string } = {}): Promise<(CloudPlan | CloudRunResult)[]> {
    const desired = this.desired(await this.identities(), this.cloudIds(opts.cloudId));
    return mapLimit([...desired.values()], this.deps.concurrency, async (state) => {
      try {
        return (await this.deps.engine.plan(state.cloudId, state)).plan;
      } catch (err) {
        return {
          cloudId: state.cloudId,
          outcome: "failed",
          reason: `cannot read the cloud: ${(err as Error).message}`,
        };
      }
    });
  }

  /**
   * Plans every cloud (or one) and keeps the plan (`sync:plan:<id>`, a day) so that it can be applied exactly,
   * by {@link applySaved}, after someone reviewed it.
   */
  async savePlan(opts: { cloudId?: string } = {}): Promise<SavedPlan> {
    const id = this.newRunId();
    const desired = this.desired(await this.identities(), this.cloudIds(opts.cloudId));
    const { perCloud } = this.deps.engine.maxDeletes;
    const planned = await mapLimit([...desired.values()], this.deps.concurrency, async (state) => {
      try {
        const { plan } = await this.deps.engine.plan(state.cloudId, state);
        return savedCloudPlan(plan, state, perCloud, describe);
      } catch (err) {
        return { cloudId: state.cloudId, reason: `cannot read the cloud: ${(err as Error).message}` };
      }
    });
    const saved: SavedPlan = {
      format: "archway-sync-plan/1",
      id,
      createdAt: new Date().toISOString(),
      clouds: planned.flatMap((p) => ("planDigest" in p ? [p] : [])),
      unavailable: planned.flatMap((p) => ("reason" in p ? [p] : [])),
    };
    await setJson(this.deps.store, savedPlanKey(id), saved, { ttlMs: SAVED_PLAN_TTL_MS });
    return saved;
  }

  /** A plan kept by {@link savePlan}, or null once it expired (or never existed). */
  async savedPlan(id: string): Promise<SavedPlan | null> {
    return getJson(this.deps.store, savedPlanKey(id), SavedPlanSchema);
  }

  /**
   * Applies a saved plan: a full run over the plan's clouds in which each cloud is planned again and written to
   * only when its fresh plan is the saved one (same people and policies, same operations); any other cloud is
   * `refused` with the reason, untouched. Clouds unavailable at plan time are not run.
   */
  async applySaved(
    saved: SavedPlan,
    opts: { onResult?: (r: JobResult) => void; wait?: boolean; onWait?: RunLockOptions["onWait"] } = {},
  ) {
    const runId = this.newRunId();
    const known = new Set(this.deps.clouds.map((c) => c.id));
    const missing = saved.clouds.filter((c) => !known.has(c.cloudId)).map((c) => c.cloudId);
    if (missing.length > 0)
      throw new ArchwayError(
        "sync_plan_clouds",
        `plan ${saved.id} names clouds not configured: ${missing.join(", ")}`,
        400,
      );
    const cloudIds = saved.clouds.map((c) => c.cloudId);
    return this.locked(
      cloudIds.map((id) => `full:${id}`),
      runId,
      { wait: opts.wait, onWait: opts.onWait },
      async () => {
        const desired = this.desired(await this.identities(), cloudIds);
        const jobs: SyncJob[] = saved.clouds.map((c) => ({
          runId,
          cloudId: c.cloudId,
          kind: "full",
          desired: desired.get(c.cloudId) ?? emptyDesired(c.cloudId),
          expect: { planId: saved.id, desiredDigest: c.desiredDigest, planDigest: c.planDigest },
        }));
        return { runId, results: await this.deps.queue.submit(jobs, { onResult: opts.onResult }) };
      },
    );
  }

  /**
   * A full run: every person, every cloud (or one), one job per cloud. It holds the run lock of each of its clouds
   * while it lasts: a second full run over one of them is refused (`sync_run_locked`, naming the holder) or, with
   * `wait`, starts once the first ended.
   */
  async full(
    opts: {
      cloudId?: string;
      runId?: string;
      deepKeys?: boolean;
      onResult?: (r: JobResult) => void;
      wait?: boolean;
      onWait?: RunLockOptions["onWait"];
    } = {},
  ) {
    const runId = opts.runId ?? this.newRunId();
    const cloudIds = this.cloudIds(opts.cloudId);
    return this.locked(
      cloudIds.map((id) => `full:${id}`),
      runId,
      { wait: opts.wait, onWait: opts.onWait },
      async () => {
        const desired = this.desired(await this.identities(), cloudIds);
        const jobs: SyncJob[] = [...desired.values()].map((state) => ({
          runId,
          cloudId: state.cloudId,
          kind: "full",
          desired: state,
          deepKeys: opts.deepKeys,
        }));
        return { runId, results: await this.deps.queue.submit(jobs, { onResult: opts.onResult }) };
      },
    );
  }

  private async locked<T>(scopes: string[], runId: string, opts: RunLockOptions, run: () => Promise<T>): Promise<T> {
    const held = await acquireRunLocks(this.deps.store, scopes, runId, { ...this.deps.runLock, ...opts });
    try {
      return await run();
    } finally {
      await held.release();
    }
  }

  /** The people changed since the last incremental run (per source mark in the store), their grants only. */
  async incremental(): Promise<{ runId: string; people: number; results: JobResult[] }> {
    const runId = this.newRunId();
    // One incremental run at a time: two would read the same marks and both do every write.
    return this.locked(["incremental"], runId, {}, () => this.incrementalRun(runId));
  }

  private async incrementalRun(runId: string): Promise<{ runId: string; people: number; results: JobResult[] }> {
    const marks = new Map<string, string>();
    const next = new Map<string, string>();
    for (const source of this.deps.sources) {
      const mark = await this.deps.store.get(`sync:mark:${source.id}`);
      if (mark) marks.set(source.id, mark);
      next.set(source.id, await source.mark());
    }
    const changed = await this.identities(marks);
    // Every cloud: a changed person may have lost everything somewhere, and that cloud must revoke.
    const results = changed.length > 0 ? await this.people(changed, runId, "incremental", true) : [];
    if (results.every((r) => r.outcome !== "failed")) {
      for (const [id, mark] of next) await this.deps.store.set(`sync:mark:${id}`, mark);
    }
    return { runId, people: changed.length, results };
  }

  /**
   * Just-in-time: one person (at login), only their grants, only the clouds they get something in; with `cloudId`,
   * only that cloud (a person's first request to one cloud does not wait for a slow other one).
   */
  async person(identity: Identity, opts: { cloudId?: string } = {}): Promise<JobResult[]> {
    // A stale session of someone offboarded must not provision (or re-enable) them at their next request.
    if (await this.offboarded.get(identity.id)) return [];
    const runId = this.newRunId();
    const scope = opts.cloudId ? `person:${identity.id}:${opts.cloudId}` : `person:${identity.id}`;
    // Two logins of one person at once: the second waits for the first (a short run), then finds little to do.
    return this.locked([scope], runId, { wait: true, waitMs: 60_000, pollMs: 200 }, async () =>
      this.people([await this.storedKeys.merge(identity)], runId, "person", false, opts.cloudId),
    );
  }

  private async people(
    identities: Identity[],
    runId: string,
    kind: SyncJob["kind"],
    allClouds: boolean,
    onlyCloudId?: string,
  ): Promise<JobResult[]> {
    const computed = allClouds ? this.desired(identities) : desiredState(identities, this.deps.policies());
    const ids = identities.map((i) => i.id);
    // Federated clouds are left to full runs: their groups are shared by everyone who holds the same project role,
    // so a plan from a few people's grants would revoke everybody else's; Keystone makes the users at login anyway.
    const jobs: SyncJob[] = [...computed.values()]
      .filter((state) => this.deps.clouds.some((c) => c.id === state.cloudId && c.mode !== "federated"))
      .filter((state) => onlyCloudId === undefined || state.cloudId === onlyCloudId)
      .map((state) => ({ runId, cloudId: state.cloudId, kind, desired: state, people: ids }));
    return this.deps.queue.submit(jobs);
  }
}

const SAVED_PLAN_TTL_MS = 24 * 3600_000;
const savedPlanKey = (id: string) => `sync:plan:${id}`;

/** The handler both queues run: one cloud of one job through the engine. */
export function engineHandler(
  engine: SyncEngine,
  opts: { onProgress?: (cloudId: string, done: number, total: number) => void } = {},
) {
  return (job: SyncJob) =>
    engine.run(job.cloudId, job.desired, {
      runId: job.runId,
      people: job.people ? new Set(job.people) : undefined,
      deepKeys: job.deepKeys,
      expect: job.expect,
      onProgress: opts.onProgress ? (d, t) => opts.onProgress?.(job.cloudId, d, t) : undefined,
    });
}
