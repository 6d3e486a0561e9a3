import { type Job, Queue, QueueEvents, Worker } from "bullmq";
import { Redis } from "ioredis";
import type { StoreConfig } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Logger } from "../log/index.js";
import { redisErrorListener } from "../store/index.js";
import {
  type JobHandler,
  type JobResult,
  jobId,
  type QueueRetry,
  type SyncJob,
  type SyncQueue,
  toJobResult,
} from "./queue.js";

/** The BullMQ queue every Archway process shares. */
export const SYNC_QUEUE = "archway-sync";

/** Redis settings for BullMQ, from the store configuration (BullMQ needs its own connections). */
export interface BullConnection {
  /** Makes a fresh ioredis connection (BullMQ requires `maxRetriesPerRequest: null`). */
  connect(): Redis;
  prefix: string;
  /** The `error` listener of every connection, queue and worker: the structured log, rate-limited. */
  onError: (err: Error) => void;
}

/** BullMQ connection settings from a Redis store configuration. */
export function bullConnection(config: StoreConfig, log?: Logger): BullConnection {
  const prefix = `${"keyPrefix" in config ? config.keyPrefix : "archway:"}bull`;
  const onError = redisErrorListener(log, "bullmq");
  const watched = (redis: Redis) => redis.on("error", onError);
  const common = { maxRetriesPerRequest: null, enableReadyCheck: false } as const;
  switch (config.type) {
    case "redis":
      return {
        prefix,
        onError,
        connect: () =>
          watched(
            new Redis(config.url, { ...common, username: config.username, password: config.password, db: config.db }),
          ),
      };
    case "redis-sentinel":
      return {
        prefix,
        onError,
        connect: () =>
          watched(
            new Redis({
              ...common,
              sentinels: config.sentinels,
              name: config.name,
              password: config.password,
              db: config.db,
            }),
          ),
      };
    default:
      throw new ArchwayError(
        "queue_unsupported",
        `the sync queue needs a redis or redis-sentinel store (got ${config.type}); use a single Redis or Sentinel for BullMQ`,
        500,
      );
  }
}

/**
 * The producer side: submits one job per cloud with idempotent ids (`<runId>__<cloudId>`: BullMQ keeps one job
 * per id, so a resubmitted run does nothing twice) and waits for whichever worker runs them.
 */
export class BullSyncQueue implements SyncQueue {
  private readonly queue: Queue;
  private readonly events: QueueEvents;

  constructor(
    conn: BullConnection,
    private readonly opts: { retry?: QueueRetry; waitMs?: number } = {},
  ) {
    this.queue = new Queue(SYNC_QUEUE, { connection: conn.connect(), prefix: conn.prefix });
    this.events = new QueueEvents(SYNC_QUEUE, { connection: conn.connect(), prefix: conn.prefix });
    this.queue.on("error", conn.onError);
    this.events.on("error", conn.onError);
  }

  async submit(jobs: readonly SyncJob[], opts: { onResult?: (r: JobResult) => void } = {}): Promise<JobResult[]> {
    await this.events.waitUntilReady();
    const retry = this.opts.retry ?? { attempts: 3, backoffMs: 1_000 };
    const added = await this.queue.addBulk(
      jobs.map((job) => ({
        name: job.kind,
        data: job,
        opts: {
          jobId: jobId(job),
          attempts: retry.attempts,
          backoff: { type: "exponential", delay: retry.backoffMs },
          removeOnComplete: { age: 24 * 3600, count: 100_000 },
          removeOnFail: { age: 7 * 24 * 3600 },
        },
      })),
    );
    return Promise.all(
      added.map(async (job, i) => {
        const submitted = jobs[i]!;
        let result: JobResult;
        try {
          result = (await job.waitUntilFinished(this.events, this.opts.waitMs ?? 15 * 60_000)) as JobResult;
        } catch (err) {
          result = {
            jobId: jobId(submitted),
            cloudId: submitted.cloudId,
            outcome: "failed",
            reason: (err as Error).message,
            attempts: job.attemptsMade,
          };
        }
        opts.onResult?.(result);
        return result;
      }),
    );
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
  }
}

/**
 * The worker side (`archway worker`): runs sync jobs, `concurrency` clouds at a time per process; many processes
 * share one queue. A job whose cloud failed is thrown back to BullMQ, which retries it with backoff; a worker
 * that dies mid-job loses its lock and the job is run again by another (apply is idempotent).
 */
export function startSyncWorker(
  conn: BullConnection,
  handler: JobHandler,
  opts: { concurrency: number; lockDurationMs?: number; onJob?: (r: JobResult) => void },
): Worker {
  const worker = new Worker(
    SYNC_QUEUE,
    async (job: Job<SyncJob>) => {
      const result = await handler(job.data);
      const compact = toJobResult(job.data, result, job.attemptsMade + 1);
      opts.onJob?.(compact);
      if (result.outcome === "failed") throw new Error(result.reason ?? "sync failed");
      return compact;
    },
    {
      connection: conn.connect(),
      prefix: conn.prefix,
      concurrency: opts.concurrency,
      lockDuration: opts.lockDurationMs ?? 30_000,
      stalledInterval: Math.max(1_000, Math.floor((opts.lockDurationMs ?? 30_000) / 2)),
      maxStalledCount: 3,
    },
  );
  worker.on("error", conn.onError);
  return worker;
}
