import { describe, expect, it } from "vitest";
import { CloudSchema, ConfigSchema } from "../../../src/config/index.js";
import { createApp } from "../../../src/http/index.js";
import { hashPassword, LoginGuard, StaticSource } from "../../../src/identity/index.js";
import { createLogger } from "../../../src/log/index.js";
import { compilePolicies } from "../../../src/policy/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { IdentitySessions, KeyRing, TokenService } from "../../../src/tokens/index.js";

// The facade's token method over a fake clock: a re-scope chain keeps its first token's expiry, never its own.
async function setup(opts: { absoluteMs?: number } = {}) {
  let now = Date.parse("2026-12-01T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const keys = new KeyRing({
    store,
    algorithm: "ES256",
    rotateAfterMs: 86_400_000,
    overlapMs: 3_600_000,
    now: clock.now,
  });
  const sessions = new IdentitySessions({ store, absoluteMs: opts.absoluteMs ?? 12 * 3_600_000, now: clock.now });
  const tokens = new TokenService({ store, keys, issuer: "http://archway.test", now: clock.now, sessions });
  const clouds = ["c1", "c2"].map((id) =>
    CloudSchema.parse({ id, authUrl: `http://127.0.0.1:1/${id}/v3`, admin: { username: "a", password: "b" } }),
  );
  const { policies } = compilePolicies(
    [
      {
        file: "p.yaml",
        text: "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: p }\nspec:\n  grants: [{ project: proj, roles: [member] }]\n",
      },
    ],
    { clouds, sources: ["demo"], roles: ["member"] },
  );
  const source = new StaticSource({
    id: "demo",
    type: "static",
    users: [
      {
        username: "alice",
        passwordHash: await hashPassword("pw", { N: 1024 }),
        groups: [],
        sshKeys: [],
        attributes: {},
        disabled: false,
      },
    ],
  });
  const gateway = {
    publicUrl: "http://archway.test",
    tokens,
    sessions,
    guard: new LoginGuard({ store, audit: async () => {} }),
    sources: [source],
    policies: () => policies,
    catalogs: { cloud: () => undefined, services: async () => new Map<string, string>() },
    broker: { projectToken: async () => ({ token: "k", expiresAt: now + 3_600_000, userId: "u" }) },
    ttlSeconds: 600,
    audit: async () => {},
  };
  const { app } = createApp({
    config: ConfigSchema.parse({}),
    log: createLogger({ level: "silent" }),
    store,
    sources: [source],
    keys,
    tokens,
    gateway,
  });
  const issue = async (auth: object, project: string) => {
    const res = await app.request("/v3/auth/tokens?nocatalog", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: { identity: auth, scope: { project: { name: project, domain: { name: "archway" } } } },
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { token: { expires_at: string; audit_ids: string[] } };
    return { token: res.headers.get("x-subject-token") as string, ...body.token };
  };
  const login = (project: string) =>
    issue(
      { methods: ["password"], password: { user: { name: "alice", domain: { name: "Default" }, password: "pw" } } },
      project,
    );
  const rescope = (token: string, project: string) => issue({ methods: ["token"], token: { id: token } }, project);
  const validate = async (asker: string, subject: string) =>
    (await app.request("/v3/auth/tokens", { headers: { "x-auth-token": asker, "x-subject-token": subject } })).status;
  return { app, clock, login, rescope, validate };
}

describe("the facade's token chains", () => {
  it("keeps the first token's expiry through every re-scope, and refuses the chain once it passed", async () => {
    const t = await setup();
    const first = await t.login("c1:proj");
    t.clock.advance(300_000);
    const second = await t.rescope(first.token, "c2:proj");
    t.clock.advance(299_000);
    const third = await t.rescope(second.token, "c1:proj");
    expect([second.expires_at, third.expires_at]).toEqual([first.expires_at, first.expires_at]);
    expect(third.audit_ids[1]).toBe(first.audit_ids[0]);
    // Past the first token's expiry (and the clock tolerance): the chain's newest token goes with it.
    t.clock.advance(2_000 + 5_000);
    const res = await t.app.request("/v3/auth/tokens", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ auth: { identity: { methods: ["token"], token: { id: third.token } } } }),
    });
    expect(res.status).toBe(401);
  });

  it("never issues beyond the session's absolute end", async () => {
    const t = await setup({ absoluteMs: 120_000 });
    const first = await t.login("c1:proj");
    expect(Date.parse(first.expires_at)).toBe(Date.parse("2026-12-01T10:02:00Z"));
  });

  it("revokes the whole chain with DELETE /v3/auth/tokens, and only that chain", async () => {
    const t = await setup();
    const first = await t.login("c1:proj");
    const second = await t.rescope(first.token, "c2:proj");
    const third = await t.rescope(second.token, "c1:proj");
    const other = await t.login("c1:proj");
    const res = await t.app.request("/v3/auth/tokens", {
      method: "DELETE",
      headers: { "x-auth-token": second.token, "x-subject-token": second.token },
    });
    expect(res.status).toBe(204);
    for (const token of [first, second, third]) expect(await t.validate(other.token, token.token)).toBe(404);
    expect(await t.validate(other.token, other.token)).toBe(200);
  });
});
