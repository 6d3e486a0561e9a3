import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryStore, type Store } from "../../../src/store/index.js";
import { concurrentAttempts } from "../../conformance/attempts.js";

/** A memory store whose every operation waits for the scheduler: store steps and checks interleave as it picks. */
function scheduledStore(s: fc.Scheduler): Store {
  const inner = new MemoryStore();
  return new Proxy(inner, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (name === "close") return () => target.close();
      return (...args: unknown[]) =>
        s
          .schedule(Promise.resolve(), String(name))
          .then(() => (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

describe("LoginGuard under any interleaving (memory store)", () => {
  it("checks at most `limit` wrong passwords, and never more than `limit` at once, however N attempts interleave", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }),
        async (s, limit, rights) => {
          const store = scheduledStore(s);
          const running = concurrentAttempts({
            store,
            limit,
            rights,
            pause: () => s.schedule(Promise.resolve(), "check").then(() => undefined),
          });
          const run = await s.waitFor(running);
          expect(run.wrongChecks).toBeLessThanOrEqual(limit);
          expect(run.maxInFlight).toBeLessThanOrEqual(limit);
          // With only wrong passwords, nothing is ever given back: at most `limit` checks in all.
          if (!rights.includes(true)) expect(run.checks).toBeLessThanOrEqual(limit);
          // Everything not checked was refused before the check, never let through.
          expect(run.statuses.filter((x) => x === 201).length).toBe(run.checks - run.wrongChecks);
          await store.close();
        },
      ),
      { numRuns: 150 },
    );
  }, 60_000);
});
