import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { CLOUD_SATURATED, UpstreamPools } from "../../../src/http/index.js";
import { ConnectionGate } from "../../../src/http/proxy/gate.js";

const tick = () => new Promise((r) => setTimeout(r, 0));

describe("the connection gate of one cloud", () => {
  it("lets `limit` exchanges through at once and queues the next first come, first served", async () => {
    const gate = new ConnectionGate(2, 10_000);
    const a = await gate.acquire();
    const b = await gate.acquire();
    expect(gate.active).toBe(2);
    const order: string[] = [];
    const c = gate.acquire().then((r) => {
      order.push("c");
      return r;
    });
    const d = gate.acquire().then((r) => {
      order.push("d");
      return r;
    });
    await tick();
    expect(gate.queued).toBe(2);
    a?.();
    b?.();
    const [rc, rd] = await Promise.all([c, d]);
    expect(order).toEqual(["c", "d"]);
    expect(gate.active).toBe(2);
    rc?.();
    rd?.();
    expect(gate.active).toBe(0);
  });

  it("tells a request no (undefined) when no slot came free within queueMs, and at once with queueMs 0", async () => {
    const gate = new ConnectionGate(1, 50);
    const held = await gate.acquire();
    const started = Date.now();
    expect(await gate.acquire()).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(gate.queued).toBe(0);
    const none = new ConnectionGate(1, 0);
    await none.acquire();
    expect(await none.acquire()).toBeUndefined();
    held?.();
    expect(gate.active).toBe(0);
  });

  it("counts a release once, however often it is called (the client leaving and the body ending both call it)", async () => {
    const gate = new ConnectionGate(1, 10_000);
    const release = await gate.acquire();
    const next = gate.acquire();
    release?.();
    release?.();
    const second = await next;
    expect(gate.active).toBe(1);
    second?.();
    second?.();
    expect(gate.active).toBe(0);
  });

  it("drops a waiter whose client left, with the signal's reason, and never gives it a slot", async () => {
    const gate = new ConnectionGate(1, 10_000);
    const held = await gate.acquire();
    const controller = new AbortController();
    const waiting = gate.acquire(controller.signal);
    await tick();
    controller.abort(new Error("client gone"));
    await expect(waiting).rejects.toThrow("client gone");
    expect(gate.queued).toBe(0);
    held?.();
    expect(gate.active).toBe(0);
    await expect(gate.acquire(controller.signal)).rejects.toThrow("client gone");
  });
});

describe("the proxy's pools", () => {
  const cloud = (id: string, proxy?: object) =>
    CloudSchema.parse({ id, authUrl: "http://127.0.0.1:1/v3", admin: { username: "a", password: "b" }, proxy });

  it("defaults to 32 connections, a 2 s queue and the cloud's timeoutMs", () => {
    const c = cloud("c1");
    expect(c.proxy).toEqual({ maxConnections: 32, queueMs: 2_000 });
    expect(c.provisionWaitMs).toBe(10_000);
    const pools = new UpstreamPools();
    expect(pools.of(c).timeoutMs).toBe(c.timeoutMs);
    expect(pools.of(c)).toBe(pools.of(c));
    return pools.close();
  });

  it("refuses with 503 cloud_saturated naming the cloud and a Retry-After, without touching another cloud", async () => {
    const pools = new UpstreamPools();
    const bad = cloud("bad-cloud", { maxConnections: 2, queueMs: 20 });
    const good = cloud("good-cloud", { maxConnections: 2, queueMs: 20 });
    await pools.slot(bad);
    await pools.slot(bad);
    const refused = await pools.slot(bad).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: CLOUD_SATURATED, status: 503, retryAfterSeconds: 2 });
    expect((refused as Error).message).toContain("cloud bad-cloud is saturated");
    const other = await pools.slot(good);
    expect(typeof other).toBe("function");
    await pools.close();
  });
});
