import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Cloud, CloudSchema, ConfigSchema } from "../../../src/config/index.js";
import { createApp, FACADE_AUDIENCE } from "../../../src/http/index.js";
import { LoginGuard } from "../../../src/identity/index.js";
import { createLogger } from "../../../src/log/index.js";
import { CloudBreakers } from "../../../src/openstack/index.js";
import { compilePolicies } from "../../../src/policy/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { IdentitySessions, KeyRing, projectScopeId, TokenService } from "../../../src/tokens/index.js";

// The proxy's part of the per-cloud breaker: a 5xx or no answer counts against the cloud, and while its circuit is
// open the proxy answers 503 at once with Retry-After, naming the cloud, without asking the broker or the cloud.
let upstream: Server;
let upstreamUrl: string;
let upstreamCalls = 0;

beforeAll(async () => {
  upstream = createServer((_req, res) => {
    upstreamCalls++;
    res.writeHead(503, { "content-type": "application/json" });
    res.end('{"error":"busy"}');
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

async function setup(breakers: CloudBreakers) {
  const store = new MemoryStore();
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 3_600_000, overlapMs: 600_000 });
  const tokens = new TokenService({ store, keys, issuer: "http://archway.test" });
  const sessions = new IdentitySessions({ store, absoluteMs: 3_600_000 });
  const cloud: Cloud = CloudSchema.parse({
    id: "c1",
    authUrl: "http://127.0.0.1:1/v3",
    admin: { username: "a", password: "b" },
  });
  const { policies } = compilePolicies(
    [
      {
        file: "p.yaml",
        text: "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: p }\nspec:\n  grants: [{ project: proj, roles: [member] }]\n",
      },
    ],
    { clouds: [cloud], sources: ["demo"], roles: ["member"] },
  );
  let brokered = 0;
  const gateway = {
    publicUrl: "http://archway.test",
    tokens,
    sessions,
    guard: new LoginGuard({ store, audit: async () => {} }),
    sources: [],
    policies: () => policies,
    catalogs: {
      cloud: (id: string) => (id === "c1" ? cloud : undefined),
      services: async () => new Map([["compute", `${upstreamUrl}/v2.1`]]),
    },
    broker: {
      projectToken: async () => {
        brokered++;
        return { token: "keystone-token", expiresAt: Date.now() + 3_600_000, userId: "u" };
      },
    },
    breakers,
    ttlSeconds: 600,
    audit: async () => {},
  };
  const { app } = createApp({
    config: ConfigSchema.parse({}),
    log: createLogger({ level: "silent" }),
    store,
    sources: [],
    keys,
    tokens,
    gateway,
  });
  const identity = {
    id: "demo:alice",
    source: "demo",
    username: "alice",
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes: {},
  };
  const { sid } = await sessions.create(identity);
  const issued = await tokens.issue({
    subject: "demo:alice",
    audience: FACADE_AUDIENCE,
    ttlSeconds: 600,
    claims: { sid, prj: projectScopeId("archway", "proj") },
  });
  return { app, token: issued.token, brokered: () => brokered };
}

describe("cloud proxy behind the cloud's breaker", () => {
  it("counts 5xx against the cloud, then answers 503 at once with Retry-After and the cloud's name", async () => {
    const breakers = new CloudBreakers({ settings: { failureThreshold: 2, openMs: 30_000 } });
    const { app, token, brokered } = await setup(breakers);
    const get = () => app.request("/clouds/c1/compute/v2.1/servers", { headers: { "x-auth-token": token } });
    expect((await get()).status).toBe(503);
    expect((await get()).status).toBe(503);
    expect(upstreamCalls).toBe(2);
    expect(breakers.get("c1").state).toBe("open");
    const refused = await get();
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(29);
    expect(await refused.text()).toContain("cloud c1 is unavailable: Archway stopped calling it");
    // Neither the broker nor the cloud was asked.
    expect(upstreamCalls).toBe(2);
    expect(brokered()).toBe(2);
  });
});
