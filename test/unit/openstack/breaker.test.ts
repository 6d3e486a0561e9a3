import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  type BreakerChange,
  CircuitBreaker,
  CloudBreakers,
  Limiter,
  OpenStackError,
  Transport,
} from "../../../src/openstack/index.js";

const SETTINGS = { failureThreshold: 3, openMs: 1_000, maxOpenMs: 4_000, probeTimeoutMs: 10_000 };

function breaker() {
  let now = 0;
  const changes: BreakerChange[] = [];
  const b = new CircuitBreaker(
    "c1",
    SETTINGS,
    () => now,
    (c) => changes.push(c),
  );
  return {
    b,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
    moves: () => changes.map((c) => c.to),
  };
}

describe("circuit breaker", () => {
  it("opens after the threshold of failures in a row, and a success in between resets the count", () => {
    const { b, moves } = breaker();
    b.failure("timeout");
    b.failure("timeout");
    b.success();
    b.failure("timeout");
    b.failure("timeout");
    expect(b.state).toBe("closed");
    expect(b.admit()).toBe(true);
    b.failure("no reply within 1000 ms");
    expect(b.state).toBe("open");
    expect(b.admit()).toBe(false);
    expect(moves()).toEqual(["open"]);
  });

  it("lets exactly one probe through once the wait is over; its success closes the circuit", () => {
    const { b, advance, moves } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.refusedForMs()).toBe(1_000);
    advance(999);
    expect(b.admit()).toBe(false);
    advance(1);
    expect(b.state).toBe("half_open");
    expect(b.refusedForMs()).toBe(0);
    expect(b.admit()).toBe(true); // the probe
    expect(b.admit()).toBe(false); // everyone else waits for it
    expect(b.refusedForMs()).toBeGreaterThan(0);
    b.success();
    expect(b.state).toBe("closed");
    expect(b.admit()).toBe(true);
    expect(moves()).toEqual(["open", "half_open", "closed"]);
  });

  it("doubles the wait after each failed probe, up to the maximum, and starts again from the first after closing", () => {
    const { b, advance, changes } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    const waits: number[] = [];
    for (let round = 0; round < 4; round++) {
      const wait = b.refusedForMs();
      waits.push(wait);
      advance(wait);
      expect(b.admit()).toBe(true);
      b.failure("still down");
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 4_000]);
    advance(b.refusedForMs());
    expect(b.admit()).toBe(true);
    b.success();
    for (let i = 0; i < 3; i++) b.failure();
    expect(b.refusedForMs()).toBe(1_000);
    expect(changes.at(-1)).toMatchObject({ to: "open", retryInMs: 1_000 });
  });

  it("counts a probe that never reports as failed", () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(1_000);
    expect(b.admit()).toBe(true);
    advance(10_000);
    expect(b.admit()).toBe(false);
    expect(b.state).toBe("open");
    expect(b.refusedForMs()).toBe(2_000);
  });

  it("refuses with a 503 naming the cloud, the last failure and when to retry", () => {
    const { b } = breaker();
    for (let i = 0; i < 3; i++) b.failure("no reply within 1000 ms");
    const err = b.refusal("keystone.auth.catalog");
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err.status).toBe(503);
    expect(err.code).toBe("cloud_unavailable");
    expect(err.retryAfterSeconds).toBe(1);
    expect(err.message).toContain("cloud c1 is unavailable");
    expect(err.message).toContain("no reply within 1000 ms");
  });

  it("is one breaker per cloud in a process", () => {
    const breakers = new CloudBreakers();
    expect(breakers.get("a")).toBe(breakers.get("a"));
    expect(breakers.get("a")).not.toBe(breakers.get("b"));
  });
});

describe("transport behind a breaker", () => {
  it("counts connection failures, then refuses at once without touching the network", async () => {
    // A port nothing listens on: refused at once.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const breakers = new CloudBreakers({ settings: { failureThreshold: 2, openMs: 60_000 } });
    let attempts = 0;
    const transport = new Transport({
      cloudId: "down",
      service: "keystone",
      limiter: new Limiter(2),
      timeoutMs: 1_000,
      retry: { attempts: 3, baseMs: 1, maxMs: 2 },
      onRequest: () => attempts++,
      breaker: breakers.get("down"),
    });
    const call = () => transport.call({ operation: "t.get", method: "GET", url: `http://127.0.0.1:${port}/` });
    await expect(call()).rejects.toMatchObject({ code: "cloud_unavailable" });
    // Two attempts failed and opened the circuit; the third was refused without a connection.
    expect(attempts).toBe(2);
    expect(breakers.get("down").state).toBe("open");
    await expect(call()).rejects.toThrow(/Archway stopped calling it/);
    expect(attempts).toBe(2);
  });
});
