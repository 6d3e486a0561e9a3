import { type Cloud, CloudSchema, type ConfigInput, ConfigSchema } from "../../../src/config/index.js";
import { createApp, FACADE_AUDIENCE } from "../../../src/http/index.js";
import { LoginGuard } from "../../../src/identity/index.js";
import { createLogger } from "../../../src/log/index.js";
import type { CloudBreakers } from "../../../src/openstack/index.js";
import { compilePolicies } from "../../../src/policy/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { IdentitySessions, KeyRing, projectScopeId, TokenService } from "../../../src/tokens/index.js";

/**
 * The app with one cloud, `c1`, whose compute service is `upstreamUrl` (a local server standing in for the
 * cloud's service), and alice's facade token scoped to its project `proj`. The broker answers without a Keystone
 * and records each call in `brokered`.
 */
export async function proxyFixture(opts: { upstreamUrl: string; breakers?: CloudBreakers; config?: ConfigInput }) {
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
  const brokered: string[] = [];
  const gateway = {
    publicUrl: "http://archway.test",
    tokens,
    sessions,
    guard: new LoginGuard({ store, audit: async () => {} }),
    sources: [],
    policies: () => policies,
    catalogs: {
      cloud: (id: string) => (id === "c1" ? cloud : undefined),
      services: async () => new Map([["compute", `${opts.upstreamUrl}/v2.1`]]),
    },
    broker: {
      projectToken: async () => {
        brokered.push("c1");
        return {
          token: "keystone-token-for-c1",
          expiresAt: Date.now() + 3_600_000,
          userId: "u",
          projectId: "0123456789abcdef0123456789abcdef",
        };
      },
    },
    ...(opts.breakers ? { breakers: opts.breakers } : {}),
    ttlSeconds: 600,
    audit: async () => {},
  };
  const { app } = createApp({
    config: ConfigSchema.parse(opts.config ?? {}),
    log: createLogger({ level: "silent" }),
    store,
    sources: [],
    keys,
    tokens,
    gateway,
  });
  const { sid } = await sessions.create({
    id: "demo:alice",
    source: "demo",
    username: "alice",
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes: {},
  });
  const issued = await tokens.issue({
    subject: "demo:alice",
    audience: FACADE_AUDIENCE,
    ttlSeconds: 600,
    claims: { sid, prj: projectScopeId("archway", "proj") },
  });
  return { app, token: issued.token, issued, tokens, brokered, sid };
}
