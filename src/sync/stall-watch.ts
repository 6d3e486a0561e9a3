/** One look at a worker and its queue. */
export interface StallLook {
  /** The oldest job waiting to be taken; undefined when none waits. */
  waiting: string | undefined;
  /** The worker had a free slot: it could have taken that job. */
  free: boolean;
}

/**
 * A worker is stuck when two looks apart saw it with a free slot both times while the same job waited both times:
 * a live worker with room takes a waiting job within its block time (seconds), so the job would have been gone.
 */
export function isStalled(before: StallLook | undefined, now: StallLook): boolean {
  if (!before?.free || !now.free) return false;
  return now.waiting !== undefined && now.waiting === before.waiting;
}

/**
 * Looks every `everyMs` and calls `onStall` with the waiting job when {@link isStalled}; a look that fails or gives
 * up (undefined: Redis down, say) forgets the previous one, so an outage never counts as a stall. After a stall the
 * next verdict needs two fresh looks. Returns the stop function.
 */
export function watchStalls(opts: {
  everyMs: number;
  look(): Promise<StallLook | undefined>;
  onStall(jobId: string): Promise<void> | void;
}): () => void {
  let before: StallLook | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    const now = await opts.look().catch(() => undefined);
    if (stopped) return;
    if (now?.waiting !== undefined && isStalled(before, now)) {
      before = undefined;
      await Promise.resolve(opts.onStall(now.waiting)).catch(() => {});
    } else before = now;
    if (!stopped) timer = setTimeout(tick, opts.everyMs).unref();
  };
  timer = setTimeout(tick, opts.everyMs).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
