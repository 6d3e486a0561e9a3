import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEndpoints } from "../../env/endpoints.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";
import { closedPort, type HangingServer, startHangingServer } from "./hanging-server.js";

// Issue 23, item 1: a hanging cloud stalled every login with a catalog for 30 s. Beside the three real clouds, the
// inventory has one cloud that accepts connections and never answers and one whose port is closed. Scoped logins
// with a catalog, validations and /v3/auth/catalog must answer within a coarse bound all along (the first login of a
// fresh process included), the real clouds' catalogs must be right, and the bad clouds' breakers must open and
// probe (half-open). Bound: 3 s, where the fault cost 30 s.
const BOUND_MS = 3_000;
const RUN_MS = 20_000;

interface Timed {
  status: number;
  ms: number;
  body: string;
  headers: Headers;
}

async function timed(url: string, init?: RequestInit): Promise<Timed> {
  const start = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(40_000) });
  const body = await res.text();
  return { status: res.status, ms: performance.now() - start, body, headers: res.headers };
}

const login = (h: FacadeHarness) =>
  timed(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "alice", password: h.password } } },
        scope: { project: { name: "u-alice" } },
      },
    }),
  });

/** Region -> URL of each compute endpoint in a token body or a /v3/auth/catalog body. */
function computeUrls(body: string): Record<string, string> {
  const parsed = JSON.parse(body) as { token?: { catalog?: unknown }; catalog?: unknown };
  const catalog = (parsed.token?.catalog ?? parsed.catalog ?? []) as {
    type: string;
    endpoints: { region: string; url: string }[];
  }[];
  const compute = catalog.find((s) => s.type === "compute");
  return Object.fromEntries((compute?.endpoints ?? []).map((e) => [e.region, e.url]));
}

/** The value of `archway_cloud_circuit_state` per cloud on /metrics. */
async function circuitStates(h: FacadeHarness): Promise<Record<string, number>> {
  const text = await (await fetch(`${h.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^archway_cloud_circuit_state\{cloud="([^"]+)"\} (\d+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

let hanging: HangingServer;
let h: FacadeHarness | undefined;
let dir: string;
let down: number;
// Both processes share the store, so they share the key that seals the signing keys kept there.
const shadowPasswordKey = randomBytes(32).toString("base64url");
const prefix = `faults-catalog-${randomBytes(4).toString("hex")}:`;

/** Starts an Archway with the real clouds, the hanging one and the closed one, on the shared Redis under `prefix`. */
async function start(coldWaitMs: number): Promise<FacadeHarness> {
  const port = await closedPort();
  // The bad clouds hold the person's project in the same Keystone domain as the real ones: one project, 5 regions.
  const domain = `facade-${randomBytes(4).toString("hex")}`;
  const admin = `admin: { username: admin, password: "admin-secret", projectName: admin }`;
  writeFileSync(
    join(dir, "bad.yaml"),
    "clouds:\n" +
      `  - { id: hung-1, authUrl: "${hanging.url}/v3", region: hung-1, domain: ${domain}, timeoutMs: 1500, ${admin} }\n` +
      `  - { id: down-1, authUrl: "http://127.0.0.1:${down}/v3", region: down-1, domain: ${domain}, timeoutMs: 1500, ${admin} }\n`,
  );
  return startFacade(port, {
    domain,
    shadowPasswordKey,
    extraConfig:
      `cloudsDir: ${dir}\nstore: { type: redis, url: "${loadEndpoints().redis.url}", keyPrefix: "${prefix}" }\n` +
      `catalog: { refreshSeconds: 5, retrySeconds: 1, coldWaitMs: ${coldWaitMs} }\n` +
      "breaker: { failureThreshold: 2, openSeconds: 2, maxOpenSeconds: 4 }\n",
  });
}

beforeAll(async () => {
  hanging = await startHangingServer();
  down = await closedPort();
  dir = mkdtempSync(join(tmpdir(), "archway-bad-clouds-"));
});

afterAll(async () => {
  await h?.close();
  await hanging?.stop();
  rmSync(dir, { recursive: true, force: true });
  // The shared Redis keeps nothing of this test.
  const redis = new Redis(loadEndpoints().redis.url);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

describe("a hanging cloud and a down cloud among the real ones", () => {
  it("never holds up logins, validations or the catalog; the real clouds' catalogs are right; the breakers open and probe", async () => {
    h = await start(2_000);
    const env = h.env;
    // The first catalog login of a fresh process (no copy in the store yet).
    const first = await login(h);
    expect(first.status, first.body).toBe(201);
    expect(first.ms).toBeLessThan(BOUND_MS);

    const worst = { login: first.ms, validate: 0, catalog: 0 };
    const seen: Record<string, Set<number>> = { "hung-1": new Set(), "down-1": new Set() };
    const started = performance.now();
    let last: Timed = first;
    while (performance.now() - started < RUN_MS) {
      last = await login(h);
      expect(last.status, last.body).toBe(201);
      const token = last.headers.get("x-subject-token") ?? "";
      const validation = await timed(`${h.url}/v3/auth/tokens`, {
        headers: { "x-auth-token": token, "x-subject-token": token },
      });
      expect(validation.status, validation.body).toBe(200);
      const catalog = await timed(`${h.url}/v3/auth/catalog`, { headers: { "x-auth-token": token } });
      expect(catalog.status, catalog.body).toBe(200);
      worst.login = Math.max(worst.login, last.ms);
      worst.validate = Math.max(worst.validate, validation.ms);
      worst.catalog = Math.max(worst.catalog, catalog.ms);
      const states = await circuitStates(h);
      for (const id of Object.keys(seen)) if (states[id] !== undefined) seen[id]!.add(states[id]!);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(worst.login).toBeLessThan(BOUND_MS);
    expect(worst.validate).toBeLessThan(BOUND_MS);
    expect(worst.catalog).toBeLessThan(BOUND_MS);

    // The real clouds' compute endpoints, through Archway's proxy; the bad clouds list none (never read).
    const urls = computeUrls(last.body);
    for (const nova of env.novas) {
      expect(urls[nova.cloud]).toBe(`${h.url}/clouds/${nova.cloud}/compute${new URL(nova.url).pathname}`);
    }
    expect(urls["hung-1"]).toBeUndefined();
    expect(urls["down-1"]).toBeUndefined();

    // Both breakers opened (2); the hanging cloud's was seen probing (1) between waits.
    expect([...seen["hung-1"]!]).toContain(2);
    expect([...seen["down-1"]!]).toContain(2);
    expect([...seen["hung-1"]!]).toContain(1);

    // The proxy answers for the hanging cloud at once while its circuit is open, naming it, with Retry-After.
    const token = last.headers.get("x-subject-token") ?? "";
    let proxied: Timed | undefined;
    for (let i = 0; i < 50; i++) {
      if ((await circuitStates(h))["hung-1"] === 2) {
        proxied = await timed(`${h.url}/clouds/hung-1/compute/v2.1/servers`, { headers: { "x-auth-token": token } });
        if (proxied.status === 503) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(proxied?.status, proxied?.body).toBe(503);
    expect(proxied!.ms).toBeLessThan(BOUND_MS);
    expect(proxied!.body).toContain("hung-1");
    expect(Number(proxied!.headers.get("retry-after"))).toBeGreaterThan(0);
  }, 90_000);

  it("serves a fresh process the store's catalogs at once, without waiting for any cloud", async () => {
    await h?.close();
    h = undefined;
    // No first-start wait at all: only the copies the previous process left in the store can fill this catalog.
    h = await start(0);
    const first = await login(h);
    expect(first.status, first.body).toBe(201);
    expect(first.ms).toBeLessThan(BOUND_MS);
    const urls = computeUrls(first.body);
    for (const nova of h.env.novas) expect(urls[nova.cloud]).toContain(`/clouds/${nova.cloud}/compute`);
  }, 60_000);
});
