import { Job, Queue, QueueEvents } from "bullmq";
import { Cluster, Redis } from "ioredis";
import type { StoreConfig } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Logger } from "../log/index.js";
import { redisErrorListener } from "../store/index.js";
import { type JobLook, jobFinished } from "./job-finished.js";
import { type JobResult, jobId, type QueueRetry, type SyncJob, type SyncQueue } from "./queue.js";

/** The BullMQ queue every Archway process shares. */
export const SYNC_QUEUE = "archway-sync";

/** How often a submitter looks at its jobs in Redis besides listening for their events (see {@link jobFinished}). */
const LOOK_MS = 5_000;

/** A connection BullMQ can use: one Redis (single or through Sentinel) or a Redis Cluster. */
export type BullClient = Redis | Cluster;

/** Redis settings for BullMQ, from the store configuration (BullMQ needs its own connections). */
export interface BullConnection {
  /** Makes a fresh ioredis connection (BullMQ requires `maxRetriesPerRequest: null`). */
  connect(): BullClient;
  /** BullMQ's key prefix; on a Cluster it carries a hash tag (see {@link queuePrefix}). */
  prefix: string;
  /** The `error` listener of every connection, queue and worker: the structured log, rate-limited. */
  onError: (err: Error) => void;
}

/**
 * BullMQ's key prefix for a store: `<keyPrefix>bull`. On a Redis Cluster every key of one queue must hash to one
 * slot (BullMQ's scripts touch several of them at once), so the prefix is wrapped in a hash tag,
 * `{<keyPrefix>bull}`, unless the key prefix already carries one (`{archway}:` gives `{archway}:bull`): all the
 * queue's keys then live on one master, and the store's own keys stay spread over the cluster.
 */
export function queuePrefix(config: StoreConfig): string {
  const prefix = `${"keyPrefix" in config ? config.keyPrefix : "archway:"}bull`;
  return config.type === "redis-cluster" && !hasHashTag(prefix) ? `{${prefix}}` : prefix;
}

/** Redis's rule: the text between the first `{` and the first `}` after it, when that text is not empty. */
function hasHashTag(key: string): boolean {
  const open = key.indexOf("{");
  return open >= 0 && key.indexOf("}", open + 1) > open + 1;
}

/** BullMQ connection settings from a Redis store configuration (single, Sentinel or Cluster). */
export function bullConnection(config: StoreConfig, log?: Logger): BullConnection {
  const prefix = queuePrefix(config);
  const onError = redisErrorListener(log, "bullmq");
  const watched = <C extends BullClient>(redis: C): C => {
    redis.on("error", onError);
    return redis;
  };
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
    case "redis-cluster":
      return {
        prefix,
        onError,
        connect: () =>
          watched(
            new Cluster(config.nodes, {
              redisOptions: { ...common, username: config.username, password: config.password },
              // A master lost for good (no replica took over) leaves the cluster failing: ioredis keeps refreshing
              // the slots until it is back, BullMQ reconnects its blocking connection on top of that.
              clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 4), 1_000),
            }),
          ),
      };
    default:
      throw new ArchwayError(
        "queue_unsupported",
        "the sync queue needs a Redis store (store.type: redis, redis-sentinel or redis-cluster)",
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
  private readonly connections: BullClient[];

  constructor(
    conn: BullConnection,
    private readonly opts: { retry?: QueueRetry; waitMs?: number } = {},
  ) {
    this.connections = [conn.connect(), conn.connect()];
    this.queue = new Queue(SYNC_QUEUE, { connection: this.connections[0]!, prefix: conn.prefix });
    this.events = new QueueEvents(SYNC_QUEUE, { connection: this.connections[1]!, prefix: conn.prefix });
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
          const waitMs = this.opts.waitMs ?? 15 * 60_000;
          result = await jobFinished<JobResult>(
            {
              event: () => job.waitUntilFinished(this.events, waitMs) as Promise<JobResult>,
              look: () => this.#look(job.id ?? jobId(submitted)),
            },
            { waitMs, pollMs: LOOK_MS },
          );
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

  /** The job as Redis has it: ended (completed, or failed with no attempt left) or not yet. */
  async #look(id: string): Promise<JobLook<JobResult>> {
    const job = await Job.fromId<SyncJob, JobResult>(this.queue, id);
    if (!job) return { failed: `job ${id} is no longer in the queue` };
    const state = await job.getState();
    if (state === "completed") return { value: job.returnvalue };
    if (state === "failed") return { failed: job.failedReason };
    return undefined;
  }

  /** The shared queue's jobs by state, as Redis has them (every worker's). Waiting includes delayed retries. */
  async depth(): Promise<{ waiting: number; active: number; failed: number }> {
    const c = await this.queue.getJobCounts("waiting", "prioritized", "delayed", "active", "failed");
    return {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0),
      active: c.active ?? 0,
      failed: c.failed ?? 0,
    };
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    // BullMQ leaves connections it was given open (they might be shared): without this, `sync apply --queue`
    // printed its result and then never exited.
    await quitAll(this.connections);
  }
}

/** Closes connections politely, or drops them when Redis does not answer within a second. */
export async function quitAll(connections: readonly BullClient[]): Promise<void> {
  await Promise.all(
    connections.map(async (c) => {
      const quit = c.quit().then(
        () => true,
        () => false,
      );
      const timer = new Promise<boolean>((r) => setTimeout(() => r(false), 1_000).unref());
      if (!(await Promise.race([quit, timer]))) c.disconnect();
    }),
  );
}
