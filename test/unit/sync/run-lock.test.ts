import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { acquireRunLocks, RUN_LOCKED } from "../../../src/sync/index.js";

describe("sync run locks", () => {
  it("refuses a second run of an overlapping scope, naming the holder, and frees everything on release", async () => {
    const store = new MemoryStore();
    const first = await acquireRunLocks(store, ["full:a", "full:b"], "run-1");
    const refused = acquireRunLocks(store, ["full:b", "full:c"], "run-2");
    await expect(refused).rejects.toMatchObject({ code: RUN_LOCKED });
    await expect(refused).rejects.toThrow(/'full:b': run run-1 on .* \(pid \d+\)/);
    // All or none: the refused run did not keep full:c.
    const other = await acquireRunLocks(store, ["full:c"], "run-3");
    await other.release();
    await first.release();
    const again = await acquireRunLocks(store, ["full:b"], "run-4");
    await again.release();
    await store.close();
  });

  it("renews its locks while the run lasts, and a waiting run starts once they are released", async () => {
    const store = new MemoryStore();
    const first = await acquireRunLocks(store, ["incremental"], "run-1", { ttlMs: 300 });
    await new Promise((r) => setTimeout(r, 700));
    await expect(acquireRunLocks(store, ["incremental"], "run-2")).rejects.toMatchObject({ code: RUN_LOCKED });
    const waited: string[] = [];
    const second = acquireRunLocks(store, ["incremental"], "run-2", {
      wait: true,
      pollMs: 50,
      onWait: (h) => waited.push(h?.runId ?? "?"),
    });
    await new Promise((r) => setTimeout(r, 200));
    await first.release();
    const held = await second;
    expect(waited).toEqual(["run-1"]);
    await held.release();
    await store.close();
  });
});

describe("sync run locks, resubmission", () => {
  it("lets the same run id in again (an idempotent resubmission), even at the same moment", async () => {
    const store = new MemoryStore();
    const [a, b] = await Promise.all([
      acquireRunLocks(store, ["full:a"], "run-1"),
      acquireRunLocks(store, ["full:a"], "run-1"),
    ]);
    await expect(acquireRunLocks(store, ["full:a"], "run-2")).rejects.toMatchObject({ code: RUN_LOCKED });
    await a.release();
    await b.release();
    await store.close();
  });
});
