import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FACADE_AUDIENCE } from "../../../src/http/keystone/caller.js";
import { type Identity, type OidcSource, satisfiesMfa } from "../../../src/identity/index.js";
import { WITH_MFA, WITHOUT_MFA } from "../../../src/policy/index.js";
import { entitlementsOf } from "../../../src/tokens/index.js";
import { keystoneAdminToken } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { browserLogin } from "../../helpers/oidc-browser.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Policies that want a second factor for the admin role on `ops`, while members get member there without one:
// through the real facade, proxy and broker, in front of the test environment's cloud-1 Keystone. The upstream SSO
// is the test environment's oidc-provider script, run here on a port of this test's own (the shared instance may
// be another branch's build): its login form's `amr`/`acr` fields say how the person signed in.

const env = loadEndpoints();
const REDIRECT = "http://127.0.0.1:18080/callback";
const STRONG_ACR = "urn:corp:loa:3";
const POLICIES = {
  members: `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops-members }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  clouds: { names: [cloud-1] }\n  grants: [{ project: ops, roles: [member] }]\n`,
  admins: `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops-admins }\nspec:\n  subjects: { groups: { anyOf: [admins] } }\n  clouds: { names: [cloud-1] }\n  requires: { mfa: true }\n  grants: [{ project: ops, roles: [admin] }]\n`,
};

interface TokenBody {
  token: { methods: string[]; roles?: { name: string }[]; project?: { name: string } };
}

let h: FacadeHarness;
let provider: ChildProcess | undefined;
let providerDir: string;
let issuer: string;
const browser = new Agent({ connect: { ca: readFileSync(env.ca.certFile) } });

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Starts the test environment's oidc-provider script (this branch's copy) on a free port; resolves its issuer. */
async function startProvider(): Promise<string> {
  const port = await freePort();
  providerDir = mkdtempSync(join(tmpdir(), "archway-mfa-oidc-"));
  const state = join(providerDir, "oidc.json");
  const ca = dirname(env.ca.certFile);
  provider = spawn(
    process.execPath,
    ["test/env/oidc/provider.mjs", String(port), join(ca, "server.crt"), join(ca, "server.key"), state],
    { stdio: "ignore" },
  );
  for (let i = 0; i < 200 && !existsSync(state); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(state)) throw new Error("the oidc-provider did not start");
  return (JSON.parse(readFileSync(state, "utf8")) as { issuer: string }).issuer;
}

beforeAll(async () => {
  issuer = await startProvider();
  h = await startFacade(18151, {
    users: [{ username: "dora", groups: ["devs", "admins"] }],
    policies: POLICIES,
    extraSources:
      `    - id: corp\n      type: oidc\n      issuer: "${issuer}"\n      clientId: archway\n      clientSecret: archway-secret\n` +
      `      caFile: "${env.ca.certFile}"\n      scopes: [openid, email, profile, groups]\n      strongAcr: ["${STRONG_ACR}"]\n`,
  });
}, 60_000);

afterAll(async () => {
  await h?.close();
  if (provider?.pid) process.kill(provider.pid);
  if (providerDir) rmSync(providerDir, { recursive: true, force: true });
});

async function scopedTo(body: unknown, project = "ops") {
  const res = await fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as TokenBody;
  return { status: res.status, token: res.headers.get("x-subject-token") ?? "", json, project };
}

function passwordAuth(username: string, password: string) {
  return {
    auth: {
      identity: { methods: ["password"], password: { user: { name: username, domain: { name: "demo" }, password } } },
      scope: { project: { name: "ops", domain: { name: "archway" } } },
    },
  };
}

function tokenAuth(token: string) {
  return {
    auth: {
      identity: { methods: ["token"], token: { id: token } },
      scope: { project: { name: "ops", domain: { name: "archway" } } },
    },
  };
}

const roleNames = (json: TokenBody) => (json.token.roles ?? []).map((r) => r.name).sort();

/** A Keystone admin-only call through the proxy: 200 with the admin role on the project, 403 without. */
async function adminCallThroughProxy(token: string): Promise<number> {
  // Nova's hypervisor list: `rule:admin_api` (the proxy serves no identity endpoint).
  const res = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-hypervisors`, {
    headers: { "x-auth-token": token },
  });
  await res.arrayBuffer();
  return res.status;
}

/** The roles Keystone lists for one of its tokens (checked with the cloud's admin). */
async function keystoneRoles(token: string): Promise<string[]> {
  const ks = env.keystones.find((k) => k.id === "cloud-1");
  const res = await fetch(`${ks?.authUrl}/auth/tokens`, {
    headers: { "x-auth-token": await keystoneAdminToken("cloud-1"), "x-subject-token": token },
  });
  const json = (await res.json()) as TokenBody;
  return roleNames(json);
}

function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;
}

/** An upstream login through the oidc-provider's form; `fields` adds `amr`/`acr`. Starts a login session. */
async function upstreamSession(fields: Record<string, string> = {}) {
  const source = h.gateway.web.deps.redirectSources.find((s) => s.id === "corp") as OidcSource;
  const start = await source.beginLogin({ redirectUri: REDIRECT });
  const callback = await browserLogin(
    new URL(start.url),
    REDIRECT,
    { login: "alice", password: "alice-pw", ...fields },
    browser,
  );
  const done = await source.completeLogin(callback, start.pending);
  const session = await h.gateway.facade.sessions.create(done.identity, done.auth);
  // The unscoped facade token such a sign-in leads to (as the web's or the CLI's flows hand out).
  const issued = await h.gateway.facade.tokens.issue({
    subject: done.identity.id,
    audience: FACADE_AUDIENCE,
    ttlSeconds: 600,
    notAfter: session.absoluteEnd / 1000,
    claims: { sid: session.sid, amr: session.amr },
  });
  return { identity: done.identity, session, token: issued.token };
}

describe("a policy that requires a second factor (spec.requires.mfa)", () => {
  it("withholds the admin role on ops from a directory-password session without a second factor", async () => {
    const got = await scopedTo(passwordAuth("dora", h.passwordOf("dora")));
    expect(got.status).toBe(201);
    expect(roleNames(got.json)).toEqual(["member"]);
    expect(got.json.token.methods).toEqual(["password"]);
    expect(claimsOf(got.token)).toMatchObject({ amr: ["pwd"], acr: "urn:archway:acr:1fa" });
    // The brokered Keystone token behind the proxy carries no admin role either, though the shadow user holds it.
    expect(await adminCallThroughProxy(got.token)).toBe(403);
    const keypairs = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": got.token },
    });
    expect(keypairs.status).toBe(200);
    // A re-scoped token keeps its session's amr and gains nothing.
    const again = await scopedTo(tokenAuth(got.token));
    expect(again.status).toBe(201);
    expect(roleNames(again.json)).toEqual(["member"]);
    expect(again.json.token.methods).toEqual(["token", "password"]);
    expect(claimsOf(again.token)).toMatchObject({ amr: ["pwd"] });
  }, 60_000);

  it("gives the broker's Keystone token only the session's roles, and all of them with a second factor", async () => {
    const source = h.gateway.facade.sources.find((s) => s.id === "demo");
    if (!source) throw new Error("no static source");
    const dora: Identity = await h.gateway.facade.guard.login(source, "dora", h.passwordOf("dora"), "127.0.0.1");
    const policies = h.gateway.facade.policies();
    const weak = entitlementsOf(dora, policies, WITHOUT_MFA).byName("ops")?.regions.get("cloud-1");
    const strong = entitlementsOf(dora, policies, WITH_MFA).byName("ops")?.regions.get("cloud-1");
    expect(weak?.roles).toEqual(["member"]);
    expect(weak?.withheldRoles).toEqual(["admin"]);
    expect(strong?.roles).toEqual(["admin", "member"]);
    expect(strong?.withheldRoles).toEqual([]);
    const weakToken = await h.gateway.facade.broker.projectToken(dora, weak!);
    const strongToken = await h.gateway.facade.broker.projectToken(dora, strong!);
    expect(weakToken.token).not.toBe(strongToken.token);
    expect(await keystoneRoles(weakToken.token)).not.toContain("admin");
    expect(await keystoneRoles(weakToken.token)).toContain("member");
    expect(await keystoneRoles(strongToken.token)).toContain("admin");
  }, 60_000);

  it("grants the admin role to an upstream login whose ID token reports amr mfa, through the facade and proxy", async () => {
    const { session, token } = await upstreamSession({ amr: "pwd,mfa" });
    expect(session.amr).toEqual(["fed", "pwd", "mfa"]);
    expect(satisfiesMfa(session.amr)).toBe(true);
    const got = await scopedTo(tokenAuth(token));
    expect(got.status).toBe(201);
    expect(roleNames(got.json)).toEqual(["admin", "member"]);
    expect(got.json.token.methods).toEqual(["token", "openid"]);
    expect(claimsOf(got.token)).toMatchObject({ amr: ["fed", "pwd", "mfa"], acr: "urn:archway:acr:mfa" });
    expect(await adminCallThroughProxy(got.token)).toBe(200);
  }, 60_000);

  it("does not grant it to an upstream login without a second factor, and does to a strong acr", async () => {
    const plain = await upstreamSession();
    expect(plain.session.amr).toEqual(["fed"]);
    const weak = await scopedTo(tokenAuth(plain.token));
    expect(weak.status).toBe(201);
    expect(roleNames(weak.json)).toEqual(["member"]);
    expect(await adminCallThroughProxy(weak.token)).toBe(403);

    const viaAcr = await upstreamSession({ amr: "pwd", acr: STRONG_ACR });
    expect(viaAcr.session).toMatchObject({ amr: ["fed", "pwd", "mfa"], acr: STRONG_ACR });
    const strong = await scopedTo(tokenAuth(viaAcr.token));
    expect(roleNames(strong.json)).toEqual(["admin", "member"]);

    const weakAcr = await upstreamSession({ amr: "pwd", acr: "urn:corp:loa:1" });
    expect(weakAcr.session.amr).toEqual(["fed", "pwd"]);
    expect(roleNames((await scopedTo(tokenAuth(weakAcr.token))).json)).toEqual(["member"]);
  }, 60_000);
});
