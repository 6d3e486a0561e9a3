import { once } from "node:events";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import {
  isArchwayError,
  retryAfterOf,
  STORE_UNAVAILABLE,
  storeUnavailable,
  unlessStoreUnavailable,
} from "../../../src/errors.js";
import { isUnavailability, LogLimiter, StoreAvailability } from "../../../src/store/availability.js";
import { configValue, judgePersistence, markerVerdict } from "../../../src/store/durability.js";
import { RedisStore } from "../../../src/store/index.js";

function replyError(message: string): Error {
  const err = new Error(message);
  err.name = "ReplyError";
  return err;
}

describe("store unavailability (issue 23)", () => {
  it("connection failures and timeouts are unavailability; command bugs are not", () => {
    expect(isUnavailability(new Error("Command timed out"))).toBe(true);
    expect(isUnavailability(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe(true);
    expect(isUnavailability(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))).toBe(true);
    expect(isUnavailability(replyError("LOADING Redis is loading the dataset in memory"))).toBe(true);
    expect(isUnavailability(replyError("READONLY You can't write against a read only replica."))).toBe(true);
    expect(isUnavailability(replyError("OOM command not allowed when used memory > 'maxmemory'."))).toBe(true);
    expect(isUnavailability(replyError("WRONGTYPE Operation against a key holding the wrong kind of value"))).toBe(
      false,
    );
    expect(isUnavailability("not an error")).toBe(false);
  });

  it("is a 503 store_unavailable with Retry-After; other errors get no Retry-After", () => {
    const err = storeUnavailable(new Error("Command timed out"));
    expect(isArchwayError(err)).toBe(true);
    expect(err.status).toBe(503);
    expect(err.code).toBe(STORE_UNAVAILABLE);
    expect(err.message).not.toContain("timed out");
    expect(retryAfterOf(err)).toBe("1");
    expect(retryAfterOf(new Error("x"))).toBeUndefined();
  });

  it("unlessStoreUnavailable keeps the fallback for a bad token and rethrows an outage", () => {
    expect(unlessStoreUnavailable(null)(new Error("bad signature"))).toBeNull();
    expect(() => unlessStoreUnavailable(null)(storeUnavailable())).toThrow(/store is unavailable/);
  });

  it("LogLimiter writes one line per kind per interval and counts the rest", () => {
    let now = 0;
    const limiter = new LogLimiter(10_000, () => now);
    const written: number[] = [];
    for (let i = 0; i < 100; i++) limiter.take("ECONNREFUSED", (n) => written.push(n));
    expect(written).toEqual([0]);
    limiter.take("other", (n) => written.push(n));
    now = 10_000;
    limiter.take("ECONNREFUSED", (n) => written.push(n));
    expect(written).toEqual([0, 0, 99]);
  });

  it("StoreAvailability: down on a close until ready; down on a timeout until a probe answers", async () => {
    let answer = false;
    const availability = new StoreAvailability({
      probe: async () => {
        if (!answer) throw new Error("Command timed out");
      },
      probeEveryMs: 5,
    });
    expect(availability.everReady).toBe(false);
    expect(await availability.waitForFirstReady(5)).toBe(false);
    const waiting = availability.waitForFirstReady(5_000);
    availability.ready();
    expect(await waiting).toBe(true);
    availability.markDown("connection closed");
    expect(availability.down).toBe("connection closed");
    availability.ready();
    expect(availability.down).toBeUndefined();
    availability.markDown("no answer within 500 ms", { probe: true });
    await new Promise((r) => setTimeout(r, 30));
    expect(availability.down).toBe("no answer within 500 ms");
    answer = true;
    await new Promise((r) => setTimeout(r, 30));
    expect(availability.down).toBeUndefined();
    availability.close();
    availability.markDown("after close");
    expect(availability.down).toBeUndefined();
  });
});

describe("a store that stays silent", () => {
  it("reconnects while probes go unanswered, once per reconnectEveryMs, and stops once one answers", async () => {
    let answer = false;
    let reconnects = 0;
    const availability = new StoreAvailability({
      probe: async () => {
        if (!answer) throw new Error("Command timed out");
      },
      probeEveryMs: 5,
      reconnect: () => {
        reconnects++;
      },
      reconnectEveryMs: 40,
    });
    availability.ready();
    availability.markDown("no answer within 500 ms", { probe: true });
    await new Promise((r) => setTimeout(r, 20));
    expect(reconnects).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(reconnects).toBeGreaterThanOrEqual(2);
    expect(reconnects).toBeLessThanOrEqual(5);
    answer = true;
    await new Promise((r) => setTimeout(r, 30));
    expect(availability.down).toBeUndefined();
    const after = reconnects;
    await new Promise((r) => setTimeout(r, 100));
    expect(reconnects).toBe(after);
    availability.close();
  });
});

describe("store durability checks (issue 23)", () => {
  it("judges persistence: AOF ok, RDB only a warning, nothing an error", () => {
    expect(judgePersistence({ appendonly: "yes", save: "" }).level).toBe("ok");
    expect(judgePersistence({ appendonly: "no", save: "3600 1 300 100" }).level).toBe("warn");
    const none = judgePersistence({ appendonly: "no", save: "" });
    expect(none.level).toBe("error");
    expect(none.message).toMatch(/NO persistence.*logs everyone out/);
  });

  it("reads CONFIG GET replies", () => {
    expect(configValue(["appendonly", "no"], "appendonly")).toBe("no");
    expect(configValue(["save", ""], "save")).toBe("");
    expect(configValue([], "save")).toBeUndefined();
    expect(configValue(null, "save")).toBeUndefined();
  });

  it("a marker that vanished after it was seen is a wipe; absent at the first connect is a fresh store", () => {
    expect(markerVerdict({ hadMarker: true, current: null })).toBe("wiped");
    expect(markerVerdict({ hadMarker: false, current: null })).toBe("fresh");
    expect(markerVerdict({ hadMarker: true, current: "{}" })).toBe("ok");
  });
});

describe("a Redis store with nothing listening", () => {
  it("fails fast with store_unavailable instead of queueing (start-up included)", async () => {
    const server = createServer().listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise((r) => server.close(r));
    const store = new RedisStore({
      type: "redis",
      url: `redis://127.0.0.1:${port}`,
      keyPrefix: "t:",
      db: 0,
      tls: false,
    });
    try {
      const start = performance.now();
      await expect(store.get("k")).rejects.toMatchObject({ code: "store_unavailable", status: 503 });
      await expect(store.set("k", "v")).rejects.toMatchObject({ code: "store_unavailable" });
      await expect(store.ping()).rejects.toMatchObject({ code: "store_unavailable" });
      expect(performance.now() - start).toBeLessThan(3_000);
      expect(store.unavailable).toBeDefined();
    } finally {
      const closing = performance.now();
      await store.close();
      // Closing while Redis is unreachable does not hang the shutdown.
      expect(performance.now() - closing).toBeLessThan(3_000);
    }
  });
});
