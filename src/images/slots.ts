/**
 * Concurrency of transfers: at most `perCloud` at once to one cloud and `total` at once overall. Non-blocking
 * (`tryAcquire`), so a scheduler can build a wave from whichever targets have room; `changed()` resolves on the next
 * release, to try again.
 */
export class TransferSlots {
  private readonly byCloud = new Map<string, number>();
  private active = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly perCloud: number,
    readonly total: number,
  ) {
    if (!(perCloud >= 1 && total >= 1)) throw new RangeError("concurrency limits must be at least 1");
  }

  tryAcquire(cloudId: string): boolean {
    const n = this.byCloud.get(cloudId) ?? 0;
    if (n >= this.perCloud || this.active >= this.total) return false;
    this.byCloud.set(cloudId, n + 1);
    this.active++;
    return true;
  }

  release(cloudId: string): void {
    const n = this.byCloud.get(cloudId) ?? 0;
    if (n <= 1) this.byCloud.delete(cloudId);
    else this.byCloud.set(cloudId, n - 1);
    this.active = Math.max(0, this.active - 1);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves at the next release. */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get stats(): { active: number; clouds: number } {
    return { active: this.active, clouds: this.byCloud.size };
  }
}

/** How retries back off: `baseMs * 2^(attempt-1)`, capped at `maxMs`, with half of it jittered. */
export interface BackoffPolicy {
  /** Attempts per target in total, the first included. */
  attempts: number;
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 5, baseMs: 1_000, maxMs: 30_000 };

/** The wait after failed attempt number `attempt` (1-based). `random` in [0, 1). */
export function backoffMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
