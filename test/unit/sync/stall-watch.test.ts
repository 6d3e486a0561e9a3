import { describe, expect, it } from "vitest";
import { isStalled, type StallLook, watchStalls } from "../../../src/sync/stall-watch.js";

describe("isStalled", () => {
  const look = (waiting: string | undefined, free = true): StallLook => ({ waiting, free });

  it("is stuck when the same job waited at both looks while the worker had room at both", () => {
    expect(isStalled(look("run1__cloud-2"), look("run1__cloud-2"))).toBe(true);
  });

  it("is not stuck on a first look, with nothing waiting, or when the waiting job changed", () => {
    expect(isStalled(undefined, look("a"))).toBe(false);
    expect(isStalled(look(undefined), look(undefined))).toBe(false);
    expect(isStalled(look("a"), look("b"))).toBe(false);
  });

  it("is not stuck while the worker was full at either look (the job waits for a slot, as it should)", () => {
    expect(isStalled(look("a", false), look("a"))).toBe(false);
    expect(isStalled(look("a"), look("a", false))).toBe(false);
  });
});

describe("watchStalls", () => {
  const tick = () => new Promise((r) => setTimeout(r, 15));

  it("calls onStall once per stall, and needs two fresh looks before the next verdict", async () => {
    const stalls: string[] = [];
    const stop = watchStalls({
      everyMs: 5,
      look: async () => ({ waiting: "j", free: true }),
      onStall: (j) => void stalls.push(j),
    });
    while (stalls.length < 2) await tick();
    stop();
    const seen = stalls.length;
    await tick();
    expect(stalls.slice(0, 2)).toEqual(["j", "j"]);
    expect(stalls.length).toBe(seen);
  });

  it("a failed look (Redis down) in between forgets the previous one: an outage never counts as a stall", async () => {
    const looks: (StallLook | Error)[] = [
      { waiting: "j", free: true },
      new Error("store_unavailable"),
      { waiting: "j", free: true },
      undefined as unknown as StallLook,
      { waiting: "j", free: true },
    ];
    let n = 0;
    const stalls: string[] = [];
    const stop = watchStalls({
      everyMs: 2,
      async look() {
        const next = looks[n++];
        if (next instanceof Error) throw next;
        return next;
      },
      onStall: (j) => void stalls.push(j),
    });
    while (n <= looks.length) await tick();
    stop();
    expect(stalls).toEqual([]);
  });
});
