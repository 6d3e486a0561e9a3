import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/index.js";

/**
 * The one conformance suite every Store implementation must pass. `create` builds a fresh store; keys are
 * namespaced per run so a shared Redis can be used.
 */
export function describeStoreConformance(name: string, create: () => Promise<Store> | Store): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;
    const ns = `conf-${randomUUID()}:`;
    const k = (s: string) => ns + s;

    beforeAll(async () => {
      store = await create();
    });
    afterAll(async () => {
      await store.close();
    });

    it("answers ping", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it("gets what was set, and null for a missing key", async () => {
      await store.set(k("a"), "1");
      expect(await store.get(k("a"))).toBe("1");
      expect(await store.get(k("missing"))).toBeNull();
    });

    it("overwrites on set and deletes", async () => {
      await store.set(k("b"), "1");
      await store.set(k("b"), "2");
      expect(await store.get(k("b"))).toBe("2");
      expect(await store.delete(k("b"))).toBe(true);
      expect(await store.delete(k("b"))).toBe(false);
      expect(await store.get(k("b"))).toBeNull();
    });

    it("expires a value after its TTL", async () => {
      await store.set(k("ttl"), "x", { ttlMs: 150 });
      expect(await store.get(k("ttl"))).toBe("x");
      await sleep(400);
      expect(await store.get(k("ttl"))).toBeNull();
    });

    it("setIfAbsent stores only once, and again after expiry", async () => {
      expect(await store.setIfAbsent(k("once"), "first", { ttlMs: 150 })).toBe(true);
      expect(await store.setIfAbsent(k("once"), "second", { ttlMs: 150 })).toBe(false);
      expect(await store.get(k("once"))).toBe("first");
      await sleep(400);
      expect(await store.setIfAbsent(k("once"), "third")).toBe(true);
      expect(await store.get(k("once"))).toBe("third");
    });

    it("increments atomically under concurrency and starts the window at the first increment", async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.increment(k("ctr"), { ttlMs: 60_000 })));
      expect(new Set(results).size).toBe(50);
      expect(Math.max(...results)).toBe(50);
      expect(await store.increment(k("ctr"), { ttlMs: 60_000, by: 5 })).toBe(55);
    });

    it("forgets a counter after its TTL", async () => {
      await store.increment(k("ctr-ttl"), { ttlMs: 150 });
      await store.increment(k("ctr-ttl"), { ttlMs: 150 });
      await sleep(400);
      expect(await store.increment(k("ctr-ttl"), { ttlMs: 150 })).toBe(1);
    });

    it("decrements a counter atomically, never below zero, keeping its window", async () => {
      await store.increment(k("dec"), { ttlMs: 300 });
      await store.increment(k("dec"), { ttlMs: 300, by: 9 });
      const results = await Promise.all(Array.from({ length: 12 }, () => store.decrement(k("dec"))));
      // Ten units to give back: ten distinct values down to zero, then zero (no negative count).
      expect([...results].sort((a, b) => a - b)).toEqual([0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(await store.increment(k("dec"), { ttlMs: 60_000 })).toBe(1);
      // The window is still the first increment's: the key goes when it ends.
      await sleep(500);
      expect(await store.get(k("dec"))).toBeNull();
    });

    it("leaves an absent counter absent on decrement", async () => {
      expect(await store.decrement(k("dec-absent"), { by: 3 })).toBe(0);
      expect(await store.get(k("dec-absent"))).toBeNull();
      expect(await store.increment(k("dec-absent"), { ttlMs: 60_000 })).toBe(1);
    });

    it("keeps concurrent increments and decrements consistent", async () => {
      const ops = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? store.increment(k("mixed"), { ttlMs: 60_000 }) : store.decrement(k("mixed")),
      );
      await Promise.all(ops);
      // Every decrement ran after an increment issued before it, so none hit the floor.
      expect(await store.get(k("mixed"))).toBe("0");
    });

    it("adds to several counters in one call: increments start a window, decrements never go below zero nor create", async () => {
      const changes = (by: number) => [
        { key: k("many-a"), by, ttlMs: 300 },
        { key: k("many-b"), by, ttlMs: 60_000 },
      ];
      expect(await store.addToCounters(changes(1))).toEqual([1, 1]);
      const concurrent = await Promise.all(Array.from({ length: 20 }, () => store.addToCounters(changes(1))));
      expect(new Set(concurrent.map(([a]) => a)).size).toBe(20);
      expect(await store.addToCounters(changes(-1))).toEqual([20, 20]);
      expect(await store.addToCounters([{ key: k("many-absent"), by: -1, ttlMs: 1_000 }])).toEqual([0]);
      expect(await store.get(k("many-absent"))).toBeNull();
      expect(await store.addToCounters([{ key: k("many-b"), by: -100, ttlMs: 1_000 }])).toEqual([0]);
      // The first counter's window is its first increment's: gone when it ends, the other still there.
      await sleep(500);
      expect(await store.get(k("many-a"))).toBeNull();
      expect(await store.get(k("many-b"))).toBe("0");
    });

    it("grants a lock to one holder at a time", async () => {
      const attempts = await Promise.all(Array.from({ length: 10 }, () => store.acquireLock(k("lock"), 5_000)));
      const held = attempts.filter((l) => l !== null);
      expect(held).toHaveLength(1);
      expect(await held[0]?.release()).toBe(true);
      const again = await store.acquireLock(k("lock"), 5_000);
      expect(again).not.toBeNull();
      await again?.release();
    });

    it("expires a lock so a crashed holder cannot block others, and a late release does not free the new holder", async () => {
      const first = await store.acquireLock(k("lock-exp"), 150);
      expect(first).not.toBeNull();
      expect(await store.acquireLock(k("lock-exp"), 150)).toBeNull();
      await sleep(400);
      const second = await store.acquireLock(k("lock-exp"), 5_000);
      expect(second).not.toBeNull();
      expect(await first?.release()).toBe(false);
      expect(await store.acquireLock(k("lock-exp"), 5_000)).toBeNull();
      expect(await second?.release()).toBe(true);
    });

    it("appends to a stream and reads in order, after a cursor, and the latest entries", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await store.append(k("stream"), { n: i, who: "alice" }));
      const all = await store.read(k("stream"));
      expect(all.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4]);
      expect(all.map((e) => e.id)).toEqual(ids);
      const after = await store.read(k("stream"), { after: ids[1] });
      expect(after.map((e) => e.data.n)).toEqual([2, 3, 4]);
      const latest = await store.read(k("stream"), { latest: true, limit: 2 });
      expect(latest.map((e) => e.data.n)).toEqual([3, 4]);
      expect(await store.read(k("empty-stream"))).toEqual([]);
    });

    it("caps a stream at roughly maxLength", async () => {
      for (let i = 0; i < 300; i++) await store.append(k("capped"), { n: i }, { maxLength: 50 });
      const entries = await store.read(k("capped"), { limit: 1_000 });
      // Redis trims approximately (~): never fewer than asked, and far fewer than written.
      expect(entries.length).toBeGreaterThanOrEqual(50);
      expect(entries.length).toBeLessThan(300);
      expect(entries.at(-1)?.data.n).toBe(299);
    });

    it("delivers published messages to subscribers until they unsubscribe", async () => {
      const got: string[] = [];
      const unsubscribe = await store.subscribe(k("chan"), (m) => got.push(m));
      await store.publish(k("chan"), "hello");
      await waitFor(() => got.length === 1);
      expect(got).toEqual(["hello"]);
      await unsubscribe();
      await store.publish(k("chan"), "after");
      await sleep(100);
      expect(got).toEqual(["hello"]);
    });
  });
}

async function waitFor(cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}
