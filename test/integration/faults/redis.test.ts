import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FaultArchway, startFaultArchway } from "./archway.js";
import { type OwnRedis, startOwnRedis } from "./own-redis.js";

// Issue 23, items 2 and 3: a Redis of the test's own that is killed, stopped and restarted under a running Archway.
// Bounds are coarse (3 s during an outage where the fault used to cost 10-30 s; a few seconds to recover).
const OUTAGE_BOUND_MS = 3_000;

interface Timed {
  status: number;
  ms: number;
  body: string;
  retryAfter: string | null;
}

async function timed(url: string, init?: RequestInit): Promise<Timed> {
  const start = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - start, body, retryAfter: res.headers.get("retry-after") };
}

function facadeLogin(a: FaultArchway): Promise<Timed> {
  return timed(`${a.url}/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: a.password } } } },
    }),
  });
}

async function loginToken(a: FaultArchway): Promise<string> {
  const res = await fetch(`${a.url}/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: a.password } } } },
    }),
  });
  expect(res.status).toBe(201);
  return res.headers.get("x-subject-token") ?? "";
}

function validate(a: FaultArchway, token: string): Promise<Timed> {
  return timed(`${a.url}/v3/auth/tokens?nocatalog`, { headers: { "x-auth-token": token, "x-subject-token": token } });
}

function oauthToken(a: FaultArchway): Promise<Timed> {
  return timed(`${a.url}/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${a.clientId}:${a.clientSecret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "password", username: "alice", password: a.password, scope: "openid" }),
  });
}

/** Polls `probe` until it gives `status`, returning how long that took. */
async function until(probe: () => Promise<Timed>, status: number, ms: number): Promise<number> {
  const start = performance.now();
  let last: Timed | undefined;
  while (performance.now() - start < ms) {
    last = await probe();
    if (last.status === status) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`still ${last?.status} after ${ms} ms: ${last?.body}`);
}

/** What every surface answers during an outage: each within the bound, and the statuses expected. */
async function expectDegraded(a: FaultArchway, token: string): Promise<void> {
  const results = {
    validate: await validate(a, token),
    login: await facadeLogin(a),
    oauth: await oauthToken(a),
    proxy: await timed(`${a.url}/clouds/cloud-x/compute/servers`, { headers: { "x-auth-token": token } }),
    api: await timed(`${a.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } }),
    jwks: await timed(`${a.url}/.well-known/jwks.json`),
    metrics: await timed(`${a.url}/metrics`),
    healthz: await timed(`${a.url}/healthz`),
    readyz: await timed(`${a.url}/readyz`),
  };
  for (const [name, r] of Object.entries(results))
    expect(r.ms, `${name} took ${r.ms} ms`).toBeLessThan(OUTAGE_BOUND_MS);
  // A token check that cannot reach the store is a 503, never a 401: clients must not throw the token away.
  for (const name of ["validate", "login", "oauth", "proxy", "api"] as const) {
    const r = results[name];
    expect(r.status, `${name}: ${r.body}`).toBe(503);
    expect(r.retryAfter, name).toBe("1");
    expect(r.body, name).toContain("store_unavailable");
  }
  // What needs no store keeps answering.
  expect(results.jwks.status).toBe(200);
  expect(JSON.parse(results.jwks.body).keys.length).toBeGreaterThan(0);
  expect(results.metrics.status).toBe(200);
  expect(results.healthz.status).toBe(200);
  expect(results.readyz.status).toBe(503);
  // The public /readyz says not ready without naming what (the detail is for the metrics listener or token).
  expect(JSON.parse(results.readyz.body)).toEqual({ status: "not_ready" });
}

describe("a Redis that dies or hangs under Archway (issue 23, item 2)", () => {
  let redis: OwnRedis;
  let archway: FaultArchway;
  let token: string;
  const stderr: string[] = [];
  const original = console.error;

  beforeAll(async () => {
    // ioredis prints "[ioredis] Unhandled error event" through console.error when a client has no error listener.
    console.error = (...args: unknown[]) => {
      stderr.push(args.map(String).join(" "));
      original(...args);
    };
    redis = await startOwnRedis({ persist: true });
    archway = await startFaultArchway(redis.url);
    token = await loginToken(archway);
    expect((await validate(archway, token)).status).toBe(200);
    expect((await oauthToken(archway)).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    console.error = original;
    await archway?.close();
    await redis?.close();
  });

  it("killed (SIGKILL): every request answers within the bound, 503 store_unavailable or 200; restarted: success within seconds", async () => {
    const fresh = await loginToken(archway);
    expect((await validate(archway, token)).status).toBe(200);
    await redis.kill();
    // A token whose revocation was read a moment ago still validates for a few seconds from this process's copy.
    expect((await validate(archway, token)).status).toBe(200);
    // A service (its token still good from this process's copy) validating a user's token: 503, not 404.
    const other = await timed(`${archway.url}/v3/auth/tokens?nocatalog`, {
      headers: { "x-auth-token": token, "x-subject-token": fresh },
    });
    expect(other.status, other.body).toBe(503);
    expect(other.body).toContain("store_unavailable");
    await expectDegraded(archway, fresh);
    await expectDegraded(archway, fresh);
    await redis.start({ persist: true });
    expect(await until(() => validate(archway, fresh), 200, 5_000)).toBeLessThan(5_000);
    expect((await facadeLogin(archway)).status).toBe(201);
    expect((await oauthToken(archway)).status).toBe(200);
    expect((await timed(`${archway.url}/readyz`)).status).toBe(200);
  }, 60_000);

  it("stopped (SIGSTOP, hung): every request answers within the bound; continued: success within seconds", async () => {
    const fresh = await loginToken(archway);
    redis.stop();
    try {
      await expectDegraded(archway, fresh);
      await expectDegraded(archway, fresh);
      // Past the few seconds of grace, the token validated before the fault is a 503 too, never a 401.
      await new Promise((r) => setTimeout(r, 5_500));
      const late = await validate(archway, token);
      expect(late.status).toBe(503);
      expect(late.ms).toBeLessThan(OUTAGE_BOUND_MS);
    } finally {
      redis.cont();
    }
    expect(await until(() => validate(archway, fresh), 200, 5_000)).toBeLessThan(5_000);
    expect((await facadeLogin(archway)).status).toBe(201);
  }, 60_000);

  it("Redis errors go to the structured log, rate-limited, and none to stderr", () => {
    const logs = archway.logs();
    const errors = logs.filter((l) => l.msg === "redis client error");
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThan(20);
    expect(logs.some((l) => String(l.msg).startsWith("store unavailable"))).toBe(true);
    expect(logs.some((l) => l.msg === "store reachable again")).toBe(true);
    expect(stderr.filter((l) => l.includes("Unhandled error event"))).toEqual([]);
    // No line per request: refusals for an outage are not audited, and no request logs a stack for it.
    expect(logs.filter((l) => l.msg === "audit event not stored" || l.msg === "request failed")).toEqual([]);
  });
});

describe("a Redis that forgets (issue 23, item 3)", () => {
  let redis: OwnRedis;
  let archway: FaultArchway;

  beforeAll(async () => {
    redis = await startOwnRedis({ persist: false });
    archway = await startFaultArchway(redis.url);
  }, 60_000);

  afterAll(async () => {
    await archway?.close();
    await redis?.close();
  });

  it("warns loudly at start when Redis has no persistence", async () => {
    await until(
      async () => {
        const found = archway.logs().some((l) => l.level === "error" && String(l.msg).includes("NO persistence"));
        return { status: found ? 200 : 0, ms: 0, body: "no persistence warning yet", retryAfter: null };
      },
      200,
      5_000,
    );
  });

  it("a restart without persistence is logged as an incident (error line and audit event)", async () => {
    await loginToken(archway);
    // The marker is written on the first connect; give it a moment before pulling the plug.
    await until(
      async () => {
        const keys = await archway.runtime.store.get("store:marker");
        return { status: keys ? 200 : 0, ms: 0, body: "no marker yet", retryAfter: null };
      },
      200,
      5_000,
    );
    await redis.kill();
    await redis.start({ persist: false });
    await until(
      async () => {
        const logs = archway.logs();
        const incident = logs.some((l) => l.level === "error" && String(l.msg).startsWith("INCIDENT: the store lost"));
        const audit = logs.some((l) => (l.audit as { type?: string } | undefined)?.type === "store.wiped");
        return { status: incident && audit ? 200 : 0, ms: 0, body: "no incident logged yet", retryAfter: null };
      },
      200,
      10_000,
    );
  }, 30_000);
});

describe("a managed Redis that refuses CONFIG (issue 23, item 3)", () => {
  let redis: OwnRedis;
  let archway: FaultArchway;

  beforeAll(async () => {
    redis = await startOwnRedis({ persist: true, args: ["--rename-command", "CONFIG", ""] });
    archway = await startFaultArchway(redis.url);
  }, 60_000);

  afterAll(async () => {
    await archway?.close();
    await redis?.close();
  });

  it("starts and serves, and says it cannot tell whether Redis persists", async () => {
    await until(
      async () => {
        const found = archway
          .logs()
          .some((l) => String(l.msg).startsWith("cannot read the Redis persistence settings"));
        return { status: found ? 200 : 0, ms: 0, body: "no CONFIG warning yet", retryAfter: null };
      },
      200,
      5_000,
    );
    expect((await facadeLogin(archway)).status).toBe(201);
  });
});
