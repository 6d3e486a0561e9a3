import { type Job, Queue, Worker } from "bullmq";
import type { Logger } from "../log/index.js";
import { type BullClient, type BullConnection, quitAll, SYNC_QUEUE } from "./bullmq.js";
import { type JobHandler, type JobResult, jobId, type SyncJob, toJobResult } from "./queue.js";
import { type StallLook, watchStalls } from "./stall-watch.js";

/** A running sync worker (`archway worker`). */
export interface SyncWorker {
  waitUntilReady(): Promise<unknown>;
  /** Jobs this process is running now. */
  readonly active: number;
  /**
   * Stops taking jobs and lets the running ones finish for up to `drainMs`; those still running then go back to
   * the queue (another worker starts them again: apply is idempotent). Resolves with how many were handed back.
   */
  close(drainMs?: number): Promise<number>;
  /** Hands every running job back to the queue now and closes (the second signal). Resolves with how many. */
  release(): Promise<number>;
}

/** Options of {@link startSyncWorker}. */
export interface SyncWorkerOptions {
  concurrency: number;
  lockDurationMs?: number;
  onJob?: (r: JobResult) => void;
  /** Called each time the worker found itself stuck and started over (`archway_redis_silent_reconnects_total`). */
  onRestart?: () => void;
  /** How often the worker checks it is not stuck (default 20 s; see {@link watchStalls}). */
  stallCheckMs?: number;
  log?: Logger;
}

/** One BullMQ worker and the connection it was given (BullMQ never closes a connection it did not make). */
interface Incarnation {
  worker: Worker;
  connection: BullClient;
}

/**
 * The worker side (`archway worker`): runs sync jobs, `concurrency` clouds at a time per process; many processes
 * share one queue. A job whose cloud failed is thrown back to BullMQ, which retries it with backoff; a worker
 * that dies mid-job loses its lock and the job is run again by another (apply is idempotent). A worker that stops
 * hands its running jobs back at once instead of leaving them locked until the lock expires.
 *
 * A worker that had room while the same job kept waiting is stuck (a connection that went half-open, a client that
 * never recovered from a failover: it would wait for hours, or for ever): it starts a new BullMQ worker on fresh
 * connections and lets the old one go.
 */
export function startSyncWorker(conn: BullConnection, handler: JobHandler, opts: SyncWorkerOptions): SyncWorker {
  const running = new Map<string, { job: Job<SyncJob>; token: string }>();
  const lockDuration = opts.lockDurationMs ?? 30_000;
  const incarnate = (): Incarnation => {
    const connection = conn.connect();
    const worker = new Worker(
      SYNC_QUEUE,
      async (job: Job<SyncJob>, token?: string) => {
        const key = job.id ?? jobId(job.data);
        if (token) running.set(key, { job, token });
        try {
          const result = await handler(job.data);
          const compact = toJobResult(job.data, result, job.attemptsMade + 1);
          opts.onJob?.(compact);
          if (result.outcome === "failed") throw new Error(result.reason ?? "sync failed");
          return compact;
        } finally {
          running.delete(key);
        }
      },
      {
        connection,
        prefix: conn.prefix,
        concurrency: opts.concurrency,
        lockDuration,
        stalledInterval: Math.max(1_000, Math.floor(lockDuration / 2)),
        maxStalledCount: 3,
      },
    );
    // Logged, never thrown: a lost connection, or the late completion of a job handed back (refused by BullMQ).
    worker.on("error", conn.onError);
    return { worker, connection };
  };
  let current = incarnate();
  let restarts = 0;
  const retiring = new Set<Promise<void>>();
  const retire = (old: Incarnation) => {
    // Its running jobs may still finish through it; a stuck one is dropped after a lock's length.
    const done = (async () => {
      await Promise.race([old.worker.close().catch(() => {}), sleep(lockDuration)]);
      await dropWorker(old.worker);
      await quitAll([old.connection]);
    })();
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
  };
  const stopWatch = watchStalls({
    everyMs: opts.stallCheckMs ?? 20_000,
    look: () => lookAtQueue(conn, () => running.size < opts.concurrency),
    onStall(waiting) {
      restarts++;
      opts.onRestart?.();
      opts.log?.warn(
        { job: waiting, restarts },
        "sync worker stuck (a job kept waiting while it had room): starting over on fresh connections",
      );
      const old = current;
      current = incarnate();
      retire(old);
    },
  });
  const settleRetiring = () => Promise.race([Promise.allSettled([...retiring]), sleep(1_000)]);

  let released: Promise<number> | undefined;
  const release = () => {
    released ??= (async () => {
      stopWatch();
      const jobs = [...running.values()];
      running.clear();
      // Back to waiting, lock dropped, attempts unchanged: the next worker takes it now, not after the lock expires.
      // Bounded: a job's own connection may be the one that went silent (its lock then expires and it runs again).
      await Promise.race([Promise.allSettled(jobs.map(({ job, token }) => job.moveToWait(token))), sleep(2_000)]);
      await dropWorker(current.worker);
      await quitAll([current.connection]);
      await settleRetiring();
      return jobs.length;
    })();
    return released;
  };
  return {
    waitUntilReady: () => current.worker.waitUntilReady(),
    get active() {
      return running.size;
    },
    async close(drainMs = 30_000) {
      stopWatch();
      const { worker, connection } = current;
      const drained = worker.close().then(() => "drained" as const);
      // Idle now, or once the running jobs finished: BullMQ's close also waits for its connections, and one to a
      // lost master (a Redis Cluster without a replica) never closes; an idle worker must not wait the whole drain.
      const idle = untilIdle(running, drainMs).then(() => sleep(IDLE_CLOSE_MS).then(() => "idle" as const));
      const outcome = await Promise.race([drained, idle, sleep(drainMs).then(() => "late" as const)]);
      if (outcome === "late") return release();
      if (outcome === "idle") await dropWorker(worker);
      await quitAll([connection]);
      await settleRetiring();
      return 0;
    },
    release,
  };
}

/**
 * The oldest waiting job, read on a connection of its own made for this look (the worker's may be the stuck one),
 * within {@link LOOK_MS}; undefined when the look fails or is late.
 */
async function lookAtQueue(conn: BullConnection, free: () => boolean): Promise<StallLook | undefined> {
  const connection = conn.connect();
  const queue = new Queue(SYNC_QUEUE, { connection, prefix: conn.prefix });
  queue.on("error", () => {});
  try {
    const look = (async (): Promise<StallLook> => {
      const before = free();
      const [oldest] = await queue.getJobs(["wait"], 0, 0, true);
      return { waiting: oldest?.id, free: before && free() };
    })();
    return await Promise.race([look, sleep(LOOK_MS).then(() => undefined)]);
  } catch {
    return undefined;
  } finally {
    await Promise.race([queue.close().catch(() => {}), sleep(1_000)]);
    connection.disconnect();
  }
}

/** BullMQ's forced close, given a second: it also waits for its connections, and a silent one never closes. */
async function dropWorker(worker: Worker): Promise<void> {
  await Promise.race([worker.close(true).catch(() => {}), sleep(1_000)]);
}

/** The longest one look at the queue may take. */
const LOOK_MS = 5_000;
/** How long an idle worker's close may take before its connections are dropped. */
const IDLE_CLOSE_MS = 2_000;

/** Resolves once no job runs (checked every 100 ms), or after `ms` in any case. */
async function untilIdle(running: ReadonlyMap<string, unknown>, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (running.size > 0 && Date.now() < until) await sleep(100);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
