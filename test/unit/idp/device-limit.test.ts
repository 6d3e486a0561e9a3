import { describe, expect, it } from "vitest";
import {
  DEVICE_CODE_LIMITS,
  DEVICE_START_LIMITS,
  DeviceCodeLimiter,
  DeviceStartLimiter,
} from "../../../src/http/oidc/device-limit.js";
import { MemoryStore } from "../../../src/store/index.js";

const MINUTE = 60_000;

function setup(limits = DEVICE_CODE_LIMITS) {
  let now = Date.parse("2026-11-24T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const limiter = new DeviceCodeLimiter(store, limits);
  let lookups = 0;
  const miss = async () => {
    lookups++;
    return null;
  };
  const hit = async () => {
    lookups++;
    return { code: "BCDFGHJK" };
  };
  return { clock, store, limiter, miss, hit, lookups: () => lookups };
}

const bob = { personId: "demo:bob", clientIp: "192.0.2.10" };
const alice = { personId: "demo:alice", clientIp: "198.51.100.20" };

describe("failed user-code lookups on /device", () => {
  it("refuses every lookup after 10 misses, even one with a valid code, until the window ends", async () => {
    const t = setup();
    for (let i = 0; i < 10; i++) expect(await t.limiter.lookup(bob, t.miss)).toEqual({ limited: false, found: null });
    expect(await t.limiter.lookup(bob, t.hit)).toEqual({ limited: true, by: "person" });
    expect(t.lookups()).toBe(10);
    t.clock.advance(14 * MINUTE);
    expect((await t.limiter.lookup(bob, t.hit)).limited).toBe(true);
    t.clock.advance(MINUTE);
    expect(await t.limiter.lookup(bob, t.hit)).toEqual({ limited: false, found: { code: "BCDFGHJK" } });
  });

  it("does not count successful lookups", async () => {
    const t = setup();
    for (let i = 0; i < 9; i++) await t.limiter.lookup(bob, t.miss);
    for (let i = 0; i < 20; i++) expect((await t.limiter.lookup(bob, t.hit)).limited).toBe(false);
    expect((await t.limiter.lookup(bob, t.miss)).limited).toBe(false);
    expect((await t.limiter.lookup(bob, t.hit)).limited).toBe(true);
  });

  it("leaves another person at another address alone", async () => {
    const t = setup();
    for (let i = 0; i < 10; i++) await t.limiter.lookup(bob, t.miss);
    expect((await t.limiter.lookup(bob, t.hit)).limited).toBe(true);
    expect(await t.limiter.lookup(alice, t.hit)).toEqual({ limited: false, found: { code: "BCDFGHJK" } });
    // The same person from another address is still refused: signing in elsewhere does not reset the count.
    expect(await t.limiter.lookup({ ...bob, clientIp: alice.clientIp }, t.hit)).toEqual({
      limited: true,
      by: "person",
    });
  });

  it("limits an address across people, and a refused caller does not use up the address's budget", async () => {
    const t = setup({ perPerson: 3, perAddress: 5, windowMs: 15 * MINUTE });
    const at = (personId: string) => ({ personId, clientIp: "203.0.113.7" });
    for (let i = 0; i < 3; i++) await t.limiter.lookup(at("demo:mallory"), t.miss);
    // Mallory is over her own limit: her further tries are refused without counting against the address.
    for (let i = 0; i < 20; i++)
      expect(await t.limiter.lookup(at("demo:mallory"), t.miss)).toEqual({ limited: true, by: "person" });
    expect(await t.limiter.lookup(at("demo:carol"), t.hit)).toMatchObject({ limited: false });
    // Two more misses from a second account at the same address reach the address limit.
    for (let i = 0; i < 2; i++) await t.limiter.lookup(at("demo:mallory2"), t.miss);
    expect(await t.limiter.lookup(at("demo:carol"), t.hit)).toEqual({ limited: true, by: "address" });
    expect(await t.limiter.lookup(alice, t.hit)).toMatchObject({ limited: false });
  });

  it("a burst of parallel guesses runs no more lookups than the limit", async () => {
    const t = setup();
    const results = await Promise.all(Array.from({ length: 40 }, () => t.limiter.lookup(bob, t.miss)));
    expect(t.lookups()).toBe(10);
    expect(results.filter((r) => r.limited)).toHaveLength(30);
  });

  it("a lookup that fails is not counted as a miss", async () => {
    const t = setup({ perPerson: 1, perAddress: 5, windowMs: 15 * MINUTE });
    const broken = async () => {
      throw new Error("store unavailable");
    };
    await expect(t.limiter.lookup(bob, broken)).rejects.toThrow("store unavailable");
    expect(await t.limiter.lookup(bob, t.miss)).toEqual({ limited: false, found: null });
    expect((await t.limiter.lookup(bob, t.hit)).limited).toBe(true);
  });
});

describe("device flow starts per client address", () => {
  it("allows 20 starts a minute from one address, then refuses until the window ends; other addresses go on", async () => {
    let now = Date.parse("2026-11-24T10:00:00Z");
    const store = new MemoryStore({ now: () => now });
    const starts = new DeviceStartLimiter(store, DEVICE_START_LIMITS);
    for (let i = 0; i < 20; i++) expect(await starts.allow("192.0.2.10")).toBe(true);
    expect(await starts.allow("192.0.2.10")).toBe(false);
    expect(await starts.allow("198.51.100.20")).toBe(true);
    now += 59_000;
    expect(await starts.allow("192.0.2.10")).toBe(false);
    now += 1_000;
    expect(await starts.allow("192.0.2.10")).toBe(true);
    expect(starts.retrySeconds).toBe(60);
  });
});
