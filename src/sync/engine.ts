import type { AuditEvent } from "../audit/index.js";
import type { Cloud } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { ArchwayMetrics } from "../metrics/index.js";
import type { CloudClients } from "../openstack/index.js";
import type { DesiredCloudState } from "../policy/index.js";
import type { Store } from "../store/index.js";
import { inSpan } from "../telemetry/index.js";
import { type ApplyResult, applyPlan } from "./apply.js";
import { type ObservedCloud, observeCloud } from "./observe.js";
import type { Ownership } from "./ownership.js";
import { type CloudPlan, planCloud } from "./plan.js";
import { federationDesired } from "./resources/federation/index.js";
import { ImageDistributor } from "./resources/image/index.js";
import { type PlanExpectation, planMismatch } from "./saved-plan.js";
import { type CloudSyncStatus, driftOf, writeStatus } from "./status.js";

/** Everything the engine needs, passed in once. */
export interface SyncEngineDeps {
  clouds: readonly Cloud[];
  /** The clients of a cloud (the caller caches them: one session and pool per cloud). */
  clients: (cloud: Cloud) => CloudClients;
  store: Store;
  audit: (event: AuditEvent) => Promise<void> | void;
  /** Key of derived shadow passwords. */
  passwordSecret: string;
  keyVersion: number;
  /** This deployment's id and whether it adopts the old marks (config `deploymentId`, `sync.adoptUnmarked`). */
  ownership: Ownership;
  graceMs: number;
  maxDeletes: { perCloud: number; total: number };
  /** Archway's issuer URL: the `remote_ids` of the identity provider in federated clouds. */
  issuer?: string;
  now?: () => Date;
  /** Counts runs by outcome and operations by kind, per cloud. */
  metrics?: Pick<ArchwayMetrics, "syncRun" | "syncOperation">;
  /** Image distribution shared by every cloud's runs (waves, status grid); default: one made from the store. */
  images?: ImageDistributor;
}

/** Options of one cloud run. */
export interface CloudRunOptions {
  runId: string;
  /** Just-in-time: only these people's grants. */
  people?: ReadonlySet<string>;
  /** Plan only. */
  dryRun?: boolean;
  deepKeys?: boolean;
  /** Applying a saved plan: the fresh plan must be the saved one, or the cloud is refused untouched. */
  expect?: PlanExpectation;
  onProgress?: (done: number, total: number) => void;
}

/** The outcome of one cloud run. */
export interface CloudRunResult {
  cloudId: string;
  outcome: "converged" | "applied_with_failures" | "refused" | "failed" | "planned";
  plan?: CloudPlan;
  apply?: ApplyResult;
  /** Why the run failed or was refused. */
  reason?: string;
  status?: CloudSyncStatus;
}

/** An empty desired state: what a cloud should hold when no policy gives anybody anything there. */
export function emptyDesired(cloudId: string): DesiredCloudState {
  return { cloudId, users: [], projects: [], assignments: [], keys: [], memberships: [] };
}

/**
 * Desired state -> observe -> plan -> guard -> apply, per cloud. One cloud's failure is that cloud's status
 * (`degraded` with the reason), never an exception that stops the others. `maxDeletesPerRun` is checked per
 * cloud, and across clouds through an atomic per-run counter in the store, so it holds however many workers
 * share a run.
 */
export class SyncEngine {
  private readonly now: () => Date;
  /** The image transfers and status grid of every run of this engine. */
  readonly images: ImageDistributor;

  constructor(private readonly deps: SyncEngineDeps) {
    this.now = deps.now ?? (() => new Date());
    this.images =
      deps.images ??
      new ImageDistributor({ store: deps.store, clients: (id) => deps.clients(this.cloud(id)), now: this.now });
  }

  /** `sync.maxDeletesPerRun`, for plans that say ahead of time what apply would refuse. */
  get maxDeletes(): { perCloud: number; total: number } {
    return this.deps.maxDeletes;
  }

  /** The configured cloud with this id. */
  cloud(cloudId: string): Cloud {
    const cloud = this.deps.clouds.find((c) => c.id === cloudId);
    if (!cloud) throw new ArchwayError("cloud_unknown", `no cloud '${cloudId}' in the configuration`, 404);
    return cloud;
  }

  /** Observes one cloud and plans it (no write). */
  async plan(
    cloudId: string,
    desired: DesiredCloudState,
    opts: Pick<CloudRunOptions, "people" | "deepKeys"> = {},
  ): Promise<{ plan: CloudPlan; observed: ObservedCloud }> {
    const cloud = this.cloud(cloudId);
    const planOpts = {
      keyVersion: this.deps.keyVersion,
      graceMs: this.deps.graceMs,
      now: this.now(),
      people: opts.people,
    };
    const clients = this.deps.clients(cloud);
    if (cloud.mode === "federated") {
      if (!this.deps.issuer) throw new ArchwayError("config_invalid", "federated clouds need Archway's publicUrl", 500);
      if (opts.people)
        throw new ArchwayError(
          "sync_scope",
          `cloud ${cloudId} is federated: only full runs plan its shared groups`,
          400,
        );
      const { base, federation } = federationDesired(cloud, desired, this.deps.issuer);
      const input = { cloud, desired: base, federation, ownership: this.deps.ownership };
      const observed = await observeCloud(clients, input, {}, { images: this.images });
      return { plan: planCloud(input, observed, planOpts), observed };
    }
    const input = { cloud, desired, ownership: this.deps.ownership };
    const observed = await observeCloud(clients, input, opts, { images: this.images });
    return { plan: planCloud(input, observed, planOpts), observed };
  }

  /**
   * Plans and applies one cloud, records its status, and never throws for a cloud-side failure. Counted
   * (`archway_sync_runs_total`) and, with tracing on, a span of its own with every call to the cloud inside.
   */
  run(cloudId: string, desired: DesiredCloudState, opts: CloudRunOptions): Promise<CloudRunResult> {
    return inSpan("sync.cloud", { "archway.cloud": cloudId, "archway.sync.run": opts.runId }, async (span) => {
      const result = await this.#run(cloudId, desired, opts);
      // The image status grid as this run left it (a one-shot `sync apply` exits right after).
      await this.images.settle();
      span.setAttribute("archway.sync.outcome", result.outcome);
      this.deps.metrics?.syncRun(cloudId, result.outcome);
      return result;
    });
  }

  async #run(cloudId: string, desired: DesiredCloudState, opts: CloudRunOptions): Promise<CloudRunResult> {
    const at = this.now().toISOString();
    const base = { cloudId, lastRunAt: at, lastRunId: opts.runId };
    let planned: { plan: CloudPlan; observed: ObservedCloud };
    try {
      planned = await this.plan(cloudId, desired, opts);
    } catch (err) {
      return this.failed(cloudId, base, `cannot read the cloud: ${(err as Error).message}`, true);
    }
    const { plan, observed } = planned;
    if (opts.dryRun) return { cloudId, outcome: "planned", plan };
    const mismatch = opts.expect ? planMismatch(opts.expect, cloudId, desired, plan) : null;
    if (mismatch) return { cloudId, outcome: "refused", plan, reason: mismatch };
    const refusal = await this.checkDeletes(plan, opts.runId);
    if (refusal) {
      const status = await writeStatus(this.deps.store, {
        ...base,
        lastErrorAt: at,
        lastError: refusal,
        refused: true,
        degraded: false,
        drift: driftOf(plan.counts),
      });
      return { cloudId, outcome: "refused", plan, reason: refusal, status };
    }
    const apply = await applyPlan(plan, observed, {
      clients: this.deps.clients(this.cloud(cloudId)),
      passwordSecret: this.deps.passwordSecret,
      keyVersion: this.deps.keyVersion,
      ownership: this.deps.ownership,
      now: this.now,
      audit: this.deps.audit,
      onProgress: opts.onProgress,
      runId: opts.runId,
      images: this.images,
      onOperation: (kind, ok) => this.deps.metrics?.syncOperation(cloudId, kind, ok),
    });
    if (apply.failed.length > 0) {
      const first = apply.failed[0]!;
      const unavailable = apply.failed.some((f) => f.code === "cloud_unavailable");
      const reason = `${apply.failed.length} of ${plan.operations.length} operations failed; first: ${first.message}`;
      const r = await this.failed(cloudId, base, reason, unavailable, plan, apply);
      return { ...r, outcome: "applied_with_failures", plan, apply };
    }
    const status = await writeStatus(this.deps.store, {
      ...base,
      lastSuccessAt: at,
      lastError: undefined,
      degraded: false,
      refused: false,
      // Drift is what this run found; once applied, the cloud holds the desired state.
      drift: driftOf(plan.counts),
      applied: apply.applied,
      failed: 0,
    });
    return { cloudId, outcome: "converged", plan, apply, status };
  }

  private async failed(
    cloudId: string,
    base: { cloudId: string; lastRunAt: string; lastRunId: string },
    reason: string,
    degraded: boolean,
    plan?: CloudPlan,
    apply?: ApplyResult,
  ): Promise<CloudRunResult> {
    const status = await writeStatus(this.deps.store, {
      ...base,
      lastErrorAt: base.lastRunAt,
      lastError: reason,
      degraded,
      refused: false,
      ...(plan ? { drift: driftOf(plan.counts) } : {}),
      ...(apply ? { applied: apply.applied, failed: apply.failed.length } : {}),
    });
    return { cloudId, outcome: "failed", reason, status };
  }

  /** The refusal message when the plan takes away more than allowed, else null (and the run's total grows). */
  private async checkDeletes(plan: CloudPlan, runId: string): Promise<string | null> {
    const { perCloud, total } = this.deps.maxDeletes;
    if (plan.destructive > perCloud) {
      return `plan for cloud ${plan.cloudId} has ${plan.destructive} deletions (revoke/disable/delete), over maxDeletesPerRun.perCloud = ${perCloud}: nothing applied; review it with 'archway sync plan --cloud ${plan.cloudId}' and raise the limit if it is intended`;
    }
    if (plan.destructive === 0) return null;
    const counter = `sync:run:${runId}:deletes`;
    const ttlMs = 24 * 3600_000;
    // A retried job of the same run counts its cloud once.
    const first = await this.deps.store.setIfAbsent(`${counter}:${plan.cloudId}`, String(plan.destructive), { ttlMs });
    if (!first) return null;
    const sum = await this.deps.store.increment(counter, { ttlMs, by: plan.destructive });
    if (sum > total) {
      await this.deps.store.increment(counter, { ttlMs, by: -plan.destructive });
      await this.deps.store.delete(`${counter}:${plan.cloudId}`);
      return `plan for cloud ${plan.cloudId} has ${plan.destructive} deletions, which would bring run ${runId} to ${sum}, over maxDeletesPerRun.total = ${total}: nothing applied`;
    }
    return null;
  }
}
