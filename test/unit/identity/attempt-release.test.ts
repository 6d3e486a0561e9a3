import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_LOCKOUT } from "../../../src/config/index.js";
import { ArchwayError } from "../../../src/errors.js";
import { AttemptGuard } from "../../../src/identity/index.js";
import { type CounterChange, MemoryStore } from "../../../src/store/index.js";

/** A store whose next `failing` give-backs (decrements) fail, as a Redis failover does for a few seconds. */
class FlakyStore extends MemoryStore {
  failing = 0;

  override async addToCounters(changes: readonly CounterChange[]): Promise<number[]> {
    if (this.failing > 0 && changes[0]?.by === -1) {
      this.failing--;
      throw new ArchwayError("store_unavailable", "store unavailable", 503);
    }
    return super.addToCounters(changes);
  }
}

// No in-flight waiting: the pair's limit answers at once (the wait would need real timers).
const limits = { ...DEFAULT_LOCKOUT, perUserAndAddress: { ...DEFAULT_LOCKOUT.perUserAndAddress, inFlightWaitMs: 0 } };
const request = { kind: "password" as const, subjects: ["name:demo|alice"] as [string], address: "192.0.2.7" };
const unavailable = async (): Promise<never> => {
  throw new ArchwayError("directory_unavailable", "directory unavailable", 503);
};

afterEach(() => {
  vi.useRealTimers();
});

describe("AttemptGuard: reservations the store could not take back", () => {
  it("are given back in the background, so attempts never judged do not pace the person afterwards", async () => {
    vi.useFakeTimers();
    const store = new FlakyStore();
    const guard = new AttemptGuard({ store, limits });
    // As many unjudged attempts as the pair allows failures; each give-back fails once (the store is failing over).
    const attempts = limits.perUserAndAddress.maxFailures;
    for (let i = 0; i < attempts; i++) {
      store.failing = 1;
      await expect(guard.attempt(request, unavailable)).rejects.toMatchObject({ status: 503 });
    }
    // Before the retries: every unjudged attempt still counts, and the person is refused.
    expect((await guard.attempt(request, async () => "alice")).kind).toBe("refused");
    // The retries give the units back: the next attempt is judged and passes.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(await guard.attempt(request, async () => "alice")).toEqual({ kind: "passed", value: "alice" });
  });
});
