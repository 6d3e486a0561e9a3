import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  backoffMs,
  checkPin,
  Digester,
  SOURCE_DIGEST_MISMATCH,
  Throttle,
  TokenBucket,
  TransferSlots,
  verifyImage,
} from "../../../src/images/index.js";

describe("digests", () => {
  const data = Buffer.from("golden image bytes ".repeat(1000));
  const digests = () => {
    const d = new Digester({ sha256: true });
    for (let i = 0; i < data.length; i += 777) d.update(data.subarray(i, i + 777));
    return d.digest();
  };

  it("computes md5, sha512 and sha256 chunk by chunk as one pass over the whole would", () => {
    const d = digests();
    expect(d.size).toBe(data.length);
    expect(d.md5).toBe(createHash("md5").update(data).digest("hex"));
    expect(d.sha512).toBe(createHash("sha512").update(data).digest("hex"));
    expect(d.sha256).toBe(createHash("sha256").update(data).digest("hex"));
  });

  it("accepts a matching pin in any case and refuses a wrong one with a stable code", () => {
    const d = digests();
    expect(() => checkPin({ algorithm: "sha512", value: d.sha512.toUpperCase() }, d, "f")).not.toThrow();
    expect(() => checkPin({ algorithm: "sha256", value: d.sha256 ?? "" }, d, "f")).not.toThrow();
    expect(() => checkPin({ algorithm: "sha256", value: "ab".repeat(32) }, d, "f")).toThrow(
      expect.objectContaining({ code: SOURCE_DIGEST_MISMATCH }),
    );
    expect(() => checkPin(undefined, d, "f")).not.toThrow();
  });

  it("verifies Glance's status, size, checksum and sha512, and says what differs", () => {
    const d = digests();
    const ok = { status: "active", size: d.size, checksum: d.md5, os_hash_algo: "sha512", os_hash_value: d.sha512 };
    expect(verifyImage(ok, d)).toBeUndefined();
    expect(verifyImage({ ...ok, status: "saving" }, d)).toMatch(/saving/);
    expect(verifyImage({ ...ok, size: 1 }, d)).toMatch(/size/);
    expect(verifyImage({ ...ok, checksum: "x" }, d)).toMatch(/md5/);
    expect(verifyImage({ ...ok, os_hash_algo: "sha256" }, d)).toMatch(/sha256/);
    expect(verifyImage({ ...ok, os_hash_value: "x" }, d)).toMatch(/sha512/);
  });
});

describe("token bucket", () => {
  it("lets the burst go at once, then makes callers wait the debt over the rate", () => {
    const b = new TokenBucket(1000, 500);
    expect(b.reserve(500, 0)).toBe(0);
    expect(b.reserve(250, 0)).toBe(250);
    expect(b.reserve(250, 0)).toBe(500);
    // 1 s later the debt (500) is repaid and 500 tokens are back, capped at the burst.
    expect(b.reserve(500, 1500)).toBe(0);
  });

  it("a simulated sender following its waits averages the rate", () => {
    const b = new TokenBucket(10_000_000);
    let now = 0;
    const total = 100_000_000;
    for (let sent = 0; sent < total; sent += 1 << 20) now += b.reserve(1 << 20, now);
    expect(now / 1000).toBeGreaterThan(9.5);
    expect(now / 1000).toBeLessThan(10.1);
  });

  it("the throttle charges a tee n bytes per cloud and n times the fanout in total", () => {
    const t = new Throttle({ total: 3000, perCloud: { "cloud-1": 500, "*": 100_000 } });
    t.reserve(0, ["cloud-1", "cloud-2", "cloud-3"], 0);
    // 3 clouds x 1000 bytes = 3000 in total (burst 750): the total waits (3000-750)/3000 s; cloud-1 waits (1000-125)/500 s.
    const wait = t.reserve(1000, ["cloud-1", "cloud-2", "cloud-3"], 0);
    expect(wait).toBeCloseTo(1750, 0);
    expect(new Throttle().unlimited).toBe(true);
  });
});

describe("transfer slots and backoff", () => {
  it("bounds transfers per cloud and in total, and wakes waiters on release", async () => {
    const s = new TransferSlots(2, 3);
    expect(s.tryAcquire("a")).toBe(true);
    expect(s.tryAcquire("a")).toBe(true);
    expect(s.tryAcquire("a")).toBe(false);
    expect(s.tryAcquire("b")).toBe(true);
    expect(s.tryAcquire("c")).toBe(false);
    const woken = s.changed();
    s.release("a");
    await woken;
    expect(s.tryAcquire("c")).toBe(true);
    expect(s.stats.active).toBe(3);
  });

  it("backs off exponentially with jitter between half and the whole ceiling", () => {
    const policy = { attempts: 5, baseMs: 1000, maxMs: 8000 };
    expect(backoffMs(1, policy, () => 0)).toBe(500);
    expect(backoffMs(1, policy, () => 0.999)).toBeCloseTo(1000, -1);
    expect(backoffMs(3, policy, () => 0)).toBe(2000);
    expect(backoffMs(10, policy, () => 0)).toBe(4000);
  });
});
