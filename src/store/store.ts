/** A held lock; `release` is a no-op once the lock expired or was taken over. */
export interface Lock {
  readonly key: string;
  /** Releases the lock if this holder still owns it; resolves false when it had already expired. */
  release(): Promise<boolean>;
  /** Sets the lock to expire `ttlMs` from now if this holder still owns it; resolves false when it lost it. */
  extend(ttlMs: number): Promise<boolean>;
}

/** One entry of an append-only event stream. */
export interface StreamEntry {
  /** Monotonic id (`<ms>-<seq>`), usable as the `after` cursor of the next read. */
  id: string;
  data: Record<string, unknown>;
}

/** One change of {@link Store.addToCounters}. */
export interface CounterChange {
  key: string;
  /** Positive: increment; negative: decrement. */
  by: number;
  /** The window a counter created by this change lives for (ignored for a decrement). */
  ttlMs: number;
}

/**
 * The only shared state Archway has: sessions, token cache, revocations, rate limits, locks, sync state and the
 * audit stream. Values are strings (callers encode JSON). Every TTL is in milliseconds.
 * Implementations: `memory.ts` (embedded default, one process) and `redis.ts` (many processes).
 */
export interface Store {
  readonly kind: "memory" | "redis";
  get(key: string): Promise<string | null>;
  /** Stores `value`; without `ttlMs` it never expires. */
  set(key: string, value: string, opts?: { ttlMs?: number }): Promise<void>;
  /** Stores `value` only if `key` is absent; resolves true when it was stored. */
  setIfAbsent(key: string, value: string, opts?: { ttlMs?: number }): Promise<boolean>;
  /** Deletes `key`; resolves true when it existed. */
  delete(key: string): Promise<boolean>;
  /** Atomically adds `by` (default 1) and returns the new value; the TTL starts at the first increment. */
  increment(key: string, opts: { ttlMs: number; by?: number }): Promise<number>;
  /**
   * Atomically subtracts `by` (default 1) from a counter and returns the new value, never going below zero and
   * keeping its TTL. An absent (or expired) counter stays absent and resolves 0: giving back a reservation after
   * its window ended must not start a new window with a negative count.
   */
  decrement(key: string, opts?: { by?: number }): Promise<number>;
  /**
   * Adds to several counters in one round trip: a positive `by` as {@link Store.increment} (the TTL starts at the
   * first increment), a negative one as {@link Store.decrement} (never below zero, never creating). Each counter
   * changes atomically; the batch is one script where the store can run one (not across Redis Cluster slots:
   * there, when a change fails, the increments that did land are taken back before the error). Resolves the new
   * values in order.
   */
  addToCounters(changes: readonly CounterChange[]): Promise<number[]>;
  /** Takes a lock that expires on its own after `ttlMs`, or resolves null when someone else holds it. */
  acquireLock(key: string, ttlMs: number): Promise<Lock | null>;
  /** Appends to a capped stream (oldest entries dropped beyond `maxLength`, approximately). */
  append(stream: string, data: Record<string, unknown>, opts?: { maxLength?: number }): Promise<string>;
  /** Reads entries after `after` (exclusive, oldest first), or the newest `limit` when `latest` is set. */
  read(stream: string, opts?: { after?: string; limit?: number; latest?: boolean }): Promise<StreamEntry[]>;
  publish(channel: string, message: string): Promise<void>;
  /** Calls `handler` for each message on `channel` until the returned function is awaited. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  /** Resolves when the store answers; rejects with a reason otherwise (used by `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
