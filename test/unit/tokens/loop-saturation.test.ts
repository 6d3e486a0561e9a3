import { setImmediate as tick } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { loopSaturation } from "../../../src/tokens/index.js";

describe("loopSaturation", () => {
  it("is saturated while the loop has not waited for I/O since the last check, and not after it waited", async () => {
    const saturated = loopSaturation();
    // Busy work with no wait in between: the loop never blocked in epoll.
    expect(saturated()).toBe(true);
    expect(saturated()).toBe(true);
    // A timer makes the loop sleep in epoll for its duration: idle time grows.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await tick();
    expect(saturated()).toBe(false);
  });
});
