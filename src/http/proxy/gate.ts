/** Gives back a slot of a {@link ConnectionGate}; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  giveUp: () => void;
}

/**
 * At most `limit` exchanges with one cloud at once, and a bounded wait for a slot. A request that finds every slot
 * taken queues (first come, first served) for at most `queueMs`, then is told no: a hung cloud fills its own slots
 * and nothing else, and the requests behind it hear so quickly instead of piling up sockets. A request whose
 * client went away leaves the queue at once.
 */
export class ConnectionGate {
  readonly limit: number;
  readonly queueMs: number;
  #active = 0;
  readonly #waiting: Waiter[] = [];

  constructor(limit: number, queueMs: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError("a gate needs at least one slot");
    this.limit = limit;
    this.queueMs = queueMs;
  }

  /** Exchanges holding a slot now. */
  get active(): number {
    return this.#active;
  }

  /** Requests waiting for a slot now. */
  get queued(): number {
    return this.#waiting.length;
  }

  /**
   * A slot: resolves its release function when one is free within `queueMs`, `undefined` when none came free in
   * time (the cloud is saturated); rejects with the signal's reason when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<Release | undefined> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#active < this.limit) {
      this.#active++;
      return Promise.resolve(this.#releaser());
    }
    if (this.queueMs <= 0) return Promise.resolve(undefined);
    return new Promise<Release | undefined>((resolve, reject) => {
      const leave = () => {
        const at = this.#waiting.indexOf(waiter);
        if (at >= 0) this.#waiting.splice(at, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        leave();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        grant: (release) => {
          leave();
          resolve(release);
        },
        giveUp: () => {
          leave();
          resolve(undefined);
        },
      };
      const timer = setTimeout(waiter.giveUp, this.queueMs);
      timer.unref?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  /** A release that hands the slot straight to the first waiter, or frees it; only its first call counts. */
  #releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting[0];
      // The slot passes on without ever being free, so a newcomer cannot overtake the queue.
      if (next) next.grant(this.#releaser());
      else this.#active--;
    };
  }
}
