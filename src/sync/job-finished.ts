/** One look at a job in Redis: its result once it ended, its reason once it failed for good, nothing before. */
export type JobLook<R> = { value: R } | { failed: string } | undefined;

/** The two ways a submitter learns that a queued job ended. */
export interface JobEnd<R> {
  /** The event-driven wait (BullMQ's QueueEvents): fast, but one missed event would leave it waiting. */
  event(): Promise<R>;
  /** Asks Redis directly; a failed look (the store busy or down) counts as "not yet". */
  look(): Promise<JobLook<R>>;
}

/**
 * Resolves with the job's result or rejects with its failure, whichever of the event or a look every `pollMs`
 * sees first, and rejects after `waitMs` in any case. The looks are the safety net: a QueueEvents connection that
 * lost its stream read during a Redis failover (or a completion event trimmed away) cannot keep a submitter waiting
 * for a job that already ended.
 */
export function jobFinished<R>(end: JobEnd<R>, opts: { waitMs: number; pollMs: number }): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let done = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(poll);
      clearTimeout(deadline);
      settle();
    };
    const deadline = setTimeout(
      () => finish(() => reject(new Error(`job not finished within ${opts.waitMs} ms`))),
      opts.waitMs,
    );
    end.event().then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err)),
    );
    const look = async () => {
      const seen = await end.look().catch(() => undefined);
      if (done) return;
      if (seen && "value" in seen) finish(() => resolve(seen.value));
      else if (seen) finish(() => reject(new Error(seen.failed)));
      else poll = setTimeout(look, opts.pollMs);
    };
    poll = setTimeout(look, opts.pollMs);
  });
}
