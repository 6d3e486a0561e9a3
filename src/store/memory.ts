import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { CounterChange, Lock, Store, StreamEntry } from "./store.js";

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * A stream entry kept as its JSON text, as Redis keeps it: an append (every issued token is an audit event) costs
 * one `JSON.stringify` rather than a structured clone, values come back exactly as from Redis, and up to a million
 * audit entries are flat strings the garbage collector need not trace.
 */
interface StoredStreamEntry {
  id: string;
  json: string;
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * The embedded default: everything in this process's memory, lost on restart. Expiry is lazy on read plus a
 * periodic sweep so abandoned keys do not accumulate.
 */
export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  readonly #entries = new Map<string, Entry>();
  readonly #streams = new Map<string, StoredStreamEntry[]>();
  readonly #bus = new EventEmitter();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;
  #lastStreamMs = 0;
  #streamSeq = 0;
  #closed = false;

  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
    this.#bus.setMaxListeners(0);
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  async set(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<void> {
    this.#entries.set(key, { value, expiresAt: expiry(this.#now(), opts.ttlMs) });
  }

  async setIfAbsent(key: string, value: string, opts: { ttlMs?: number } = {}): Promise<boolean> {
    if (this.#live(key)) return false;
    await this.set(key, value, opts);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  async increment(key: string, opts: { ttlMs: number; by?: number }): Promise<number> {
    const current = this.#live(key);
    const next = (current ? Number(current.value) : 0) + (opts.by ?? 1);
    this.#entries.set(key, { value: String(next), expiresAt: current?.expiresAt ?? expiry(this.#now(), opts.ttlMs) });
    return next;
  }

  async decrement(key: string, opts: { by?: number } = {}): Promise<number> {
    const current = this.#live(key);
    if (!current) return 0;
    const next = Math.max(0, Number(current.value) - (opts.by ?? 1));
    current.value = String(next);
    return next;
  }

  async addToCounters(changes: readonly CounterChange[]): Promise<number[]> {
    return changes.map((c) => {
      const current = this.#live(c.key);
      if (c.by < 0) {
        if (!current) return 0;
        current.value = String(Math.max(0, Number(current.value) + c.by));
        return Number(current.value);
      }
      const next = (current ? Number(current.value) : 0) + c.by;
      this.#entries.set(c.key, { value: String(next), expiresAt: current?.expiresAt ?? expiry(this.#now(), c.ttlMs) });
      return next;
    });
  }

  async acquireLock(key: string, ttlMs: number): Promise<Lock | null> {
    const token = randomUUID();
    if (!(await this.setIfAbsent(key, token, { ttlMs }))) return null;
    return {
      key,
      release: async () => {
        if (this.#live(key)?.value !== token) return false;
        this.#entries.delete(key);
        return true;
      },
    };
  }

  async append(stream: string, data: Record<string, unknown>, opts: { maxLength?: number } = {}): Promise<string> {
    const now = this.#now();
    if (now > this.#lastStreamMs) {
      this.#lastStreamMs = now;
      this.#streamSeq = 0;
    } else {
      this.#streamSeq++;
    }
    const id = `${this.#lastStreamMs}-${this.#streamSeq}`;
    const entries = this.#streams.get(stream) ?? [];
    entries.push({ id, json: JSON.stringify(data) });
    const max = opts.maxLength ?? 100_000;
    // Trimmed approximately, as Redis's `MAXLEN ~` is: past the cap by a sixteenth, back to the cap. Trimming one
    // entry per append would move the whole array (a million audit entries) on every issued token.
    if (entries.length > max + Math.max(1, max >> 4)) entries.splice(0, entries.length - max);
    this.#streams.set(stream, entries);
    return id;
  }

  async read(stream: string, opts: { after?: string; limit?: number; latest?: boolean } = {}): Promise<StreamEntry[]> {
    const entries = this.#streams.get(stream) ?? [];
    const limit = opts.limit ?? 100;
    if (opts.latest) return entries.slice(-limit).map(parsed);
    const after = opts.after;
    const start = after === undefined ? 0 : entries.findIndex((e) => compareIds(e.id, after) > 0);
    if (start < 0) return [];
    return entries.slice(start, start + limit).map(parsed);
  }

  async publish(channel: string, message: string): Promise<void> {
    // Deliver asynchronously, like a network store would.
    queueMicrotask(() => this.#bus.emit(channel, message));
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.#bus.on(channel, handler);
    return async () => {
      this.#bus.off(channel, handler);
    };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error("memory store is closed");
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#bus.removeAllListeners();
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}

function parsed(entry: StoredStreamEntry): StreamEntry {
  return { id: entry.id, data: JSON.parse(entry.json) as Record<string, unknown> };
}

function expiry(now: number, ttlMs: number | undefined): number {
  return ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs;
}

/** Orders `<ms>-<seq>` ids numerically, as Redis stream ids are. */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am - bm || as - bs;
}
