/**
 * A token bucket that lends: `reserve(n)` always admits the bytes and says how long the caller must wait before
 * sending them (the debt divided by the rate). Pure (time is passed in), so schedules can be simulated and tested
 * without sleeping. Waiting callers are served in reservation order, which keeps it fair.
 */
export class TokenBucket {
  private tokens: number;
  private last: number | undefined;

  constructor(
    /** Bytes per second. */
    readonly rate: number,
    /** Bytes that may go at once after an idle spell (default: 1/4 s of rate). */
    readonly burst: number = Math.max(1, rate / 4),
  ) {
    if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
    this.tokens = burst;
  }

  /** Takes `n` bytes at `nowMs`; returns the milliseconds to wait before sending them (0: at once). */
  reserve(n: number, nowMs: number): number {
    if (this.last !== undefined)
      this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.last) * this.rate) / 1000);
    this.last = nowMs;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.rate) * 1000;
  }
}

/** Bandwidth caps in bytes per second; absent: unlimited. */
export interface BandwidthCaps {
  /** Cap for every cloud alone (each cloud its own bucket), or per cloud id (`"*"` for the rest). */
  perCloud?: number | Record<string, number>;
  /** Cap for all transfers of the process together. */
  total?: number;
}

/**
 * The bandwidth caps of a process: one bucket per cloud and one in total. Sending `n` bytes to clouds `ids` at once
 * (a tee) costs `n` in each cloud's bucket and `n * ids.length` in the total one; the wait is the longest.
 */
export class Throttle {
  private readonly clouds = new Map<string, TokenBucket | null>();
  private readonly total: TokenBucket | undefined;

  constructor(private readonly caps: BandwidthCaps = {}) {
    this.total = caps.total ? new TokenBucket(caps.total) : undefined;
  }

  private bucket(cloudId: string): TokenBucket | null {
    let b = this.clouds.get(cloudId);
    if (b === undefined) {
      const per = this.caps.perCloud;
      const rate = typeof per === "number" ? per : (per?.[cloudId] ?? per?.["*"]);
      b = rate ? new TokenBucket(rate) : null;
      this.clouds.set(cloudId, b);
    }
    return b;
  }

  /** Milliseconds to wait before sending `n` bytes to each of `cloudIds`. */
  reserve(n: number, cloudIds: readonly string[], nowMs: number): number {
    let wait = this.total ? this.total.reserve(n * cloudIds.length, nowMs) : 0;
    for (const id of cloudIds) wait = Math.max(wait, this.bucket(id)?.reserve(n, nowMs) ?? 0);
    return wait;
  }

  /** True when no cap is set (the tee skips the clock entirely). */
  get unlimited(): boolean {
    return !this.total && this.caps.perCloud === undefined;
  }
}
