import type { QueueDepth } from "../metrics/index.js";
import { Limiter } from "../openstack/index.js";
import type { DesiredCloudState } from "../policy/index.js";
import type { CloudRunResult } from "./engine.js";
import type { PlanExpectation } from "./saved-plan.js";

/** One unit of work: one cloud of one run. Its id (`<runId>__<cloudId>`) makes submitting it twice harmless. */
export interface SyncJob {
  runId: string;
  cloudId: string;
  kind: "full" | "incremental" | "person";
  desired: DesiredCloudState;
  /** Person-scoped jobs: the identity ids concerned. */
  people?: string[];
  deepKeys?: boolean;
  /** A saved plan's digests for this cloud: apply only that plan. */
  expect?: PlanExpectation;
}

/** The compact outcome a queue hands back (plans can be large; the details are in the audit and status). */
export interface JobResult {
  jobId: string;
  cloudId: string;
  outcome: CloudRunResult["outcome"];
  reason?: string;
  counts?: Record<string, number>;
  applied?: number;
  failed?: number;
  attempts: number;
}

/** Runs one job; a result with outcome `failed` is retried (the cloud may come back). */
export type JobHandler = (job: SyncJob) => Promise<CloudRunResult>;

/** Retry knobs shared by both queues. */
export interface QueueRetry {
  attempts: number;
  backoffMs: number;
}

/** Where jobs go: BullMQ on Redis, or {@link InProcessQueue}. */
export interface SyncQueue {
  /** Submits jobs and resolves with each one's result once every one finished (or ran out of attempts). */
  submit(jobs: readonly SyncJob[], opts?: { onResult?: (r: JobResult) => void }): Promise<JobResult[]>;
  /** Jobs waiting, running, and failed for good (`archway_sync_queue_jobs`). */
  depth?(): Promise<QueueDepth>;
  close(): Promise<void>;
}

/** The job id: one per (run, cloud), so a resubmitted run never does a cloud twice. */
export function jobId(job: Pick<SyncJob, "runId" | "cloudId">): string {
  // BullMQ refuses ':' in custom ids.
  return `${job.runId}__${job.cloudId}`.replace(/:/g, "_");
}

/** The compact result of a run. */
export function toJobResult(job: SyncJob, r: CloudRunResult, attempts: number): JobResult {
  return {
    jobId: jobId(job),
    cloudId: r.cloudId,
    outcome: r.outcome,
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.plan ? { counts: { ...r.plan.counts } } : {}),
    ...(r.apply ? { applied: r.apply.applied, failed: r.apply.failed.length } : {}),
    attempts,
  };
}

/**
 * The embedded default: the same semantics as the BullMQ queue inside one process. At most `concurrency` clouds
 * at once (a slow cloud holds one slot, never the others), failed clouds retried with exponential backoff, and a
 * job id already submitted (running or finished, while remembered) returns the same result instead of running
 * again.
 */
export class InProcessQueue implements SyncQueue {
  private readonly limiter: Limiter;
  private readonly seen = new Map<string, Promise<JobResult>>();
  private closed = false;
  /** Submitted and not started, running, and (since the process started) failed after every attempt. */
  private readonly counts = { waiting: 0, active: 0, failed: 0 };

  constructor(
    private readonly handler: JobHandler,
    private readonly opts: {
      concurrency: number;
      retry?: QueueRetry;
      sleep?: (ms: number) => Promise<void>;
      /** Finished job ids remembered for deduplication. */
      remember?: number;
    },
  ) {
    this.limiter = new Limiter(opts.concurrency);
  }

  async submit(jobs: readonly SyncJob[], opts: { onResult?: (r: JobResult) => void } = {}): Promise<JobResult[]> {
    if (this.closed) throw new Error("queue closed");
    return Promise.all(
      jobs.map((job) => {
        const id = jobId(job);
        let p = this.seen.get(id);
        if (!p) {
          this.counts.waiting++;
          p = this.limiter.run(async () => {
            this.counts.waiting--;
            this.counts.active++;
            try {
              const r = await this.runWithRetries(job);
              if (r.outcome === "failed") this.counts.failed++;
              return r;
            } finally {
              this.counts.active--;
            }
          });
          this.seen.set(id, p);
          this.forgetOldest();
        }
        return p.then((r) => {
          opts.onResult?.(r);
          return r;
        });
      }),
    );
  }

  async depth(): Promise<QueueDepth> {
    return { ...this.counts };
  }

  private async runWithRetries(job: SyncJob): Promise<JobResult> {
    const retry = this.opts.retry ?? { attempts: 3, backoffMs: 1_000 };
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let attempt = 1; ; attempt++) {
      let result: CloudRunResult;
      try {
        result = await this.handler(job);
      } catch (err) {
        result = { cloudId: job.cloudId, outcome: "failed", reason: (err as Error).message };
      }
      if (result.outcome !== "failed" || attempt >= retry.attempts || this.closed) {
        return toJobResult(job, result, attempt);
      }
      await sleep(retry.backoffMs * 2 ** (attempt - 1));
    }
  }

  private forgetOldest() {
    const max = this.opts.remember ?? 10_000;
    while (this.seen.size > max) {
      const oldest = this.seen.keys().next().value;
      if (oldest === undefined) break;
      this.seen.delete(oldest);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.seen.values()]);
  }
}
