import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FacadeHarness, startFacade } from "./harness.js";

// Sessions with an end, on the real facade in front of the test environment's Keystones, with the real openstack
// CLI: a re-scope chain never outlives its first token, revoking the first token revokes its descendants, and an
// administrator ending a session kills its facade tokens.
const run = promisify(execFile);
let h: FacadeHarness;
const home = mkdtempSync(join(tmpdir(), "archway-sessions-home-"));

interface TokenBody {
  token: { expires_at: string; audit_ids: string[]; project?: { name: string } };
}

async function post(body: object): Promise<{ token: string; body: TokenBody }> {
  const res = await fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(201);
  return { token: res.headers.get("x-subject-token") as string, body: (await res.json()) as TokenBody };
}

const scope = (project: string) => ({ project: { name: project, domain: { name: "archway" } } });
const login = (project: string) =>
  post({
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: "alice", domain: { name: "Default" }, password: h.password } },
      },
      scope: scope(project),
    },
  });
const rescope = (token: string, project: string) =>
  post({ auth: { identity: { methods: ["token"], token: { id: token } }, scope: scope(project) } });

/** GET /v3/auth/tokens: whether `subject` is still valid, asked with a token known to be good. */
async function valid(asker: string, subject: string): Promise<boolean> {
  const res = await fetch(`${h.url}/v3/auth/tokens`, {
    headers: { "x-auth-token": asker, "x-subject-token": subject },
  });
  if (res.status !== 200 && res.status !== 404) throw new Error(`validation answered ${res.status}`);
  return res.status === 200;
}

/** The real CLI re-scoping a token (v3token auth) to `project`: its `token issue` output, or the failure. */
async function cliRescope(token: string, project: string) {
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: home,
    OS_AUTH_TYPE: "v3token",
    OS_AUTH_URL: `${h.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_TOKEN: token,
    OS_PROJECT_NAME: project,
    OS_PROJECT_DOMAIN_NAME: "archway",
    OS_INTERFACE: "public",
  };
  try {
    const { stdout } = await run("/usr/bin/openstack", ["token", "issue", "-f", "json"], { env, timeout: 60_000 });
    return { ok: true as const, token: JSON.parse(stdout) as { id: string; expires: string } };
  } catch (err) {
    return { ok: false as const, stderr: String((err as { stderr?: string }).stderr ?? err) };
  }
}

beforeAll(async () => {
  h = await startFacade(18141, {
    extraConfig: "web:\n  admins: { usernames: [alice] }\nsessions: { absoluteSeconds: 3600, idleSeconds: 900 }\n",
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("a re-scope chain", () => {
  it("never outlives its first token, through HTTP and through the openstack CLI", async () => {
    const first = await login("cloud-1:u-alice");
    const expires = first.body.token.expires_at;
    const [firstAudit] = first.body.token.audit_ids;
    expect(first.body.token.audit_ids).toHaveLength(1);
    // Long enough that a fresh lifetime would end later (expiries are whole seconds).
    await new Promise((r) => setTimeout(r, 2_100));
    const second = await rescope(first.token, "cloud-2:u-alice");
    const third = await rescope(second.token, "cloud-3:u-alice");
    for (const t of [second, third]) {
      expect(Date.parse(t.body.token.expires_at)).toBe(Date.parse(expires));
      expect(t.body.token.audit_ids).toHaveLength(2);
      expect(t.body.token.audit_ids[1]).toBe(firstAudit);
    }
    const cli = await cliRescope(third.token, "cloud-1:u-alice");
    if (!cli.ok) throw new Error(cli.stderr);
    expect(Date.parse(cli.token.expires)).toBeLessThanOrEqual(Date.parse(expires));
    expect(decodeJwt(cli.token.id).exp).toBe(Date.parse(expires) / 1000);
  }, 120_000);

  it("is revoked with its first token: every descendant is refused, another login is not", async () => {
    const first = await login("cloud-1:u-alice");
    const second = await rescope(first.token, "cloud-2:u-alice");
    const third = await rescope(second.token, "cloud-3:u-alice");
    const other = await login("cloud-1:u-alice");
    const res = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "DELETE",
      headers: { "x-auth-token": first.token, "x-subject-token": first.token },
    });
    expect(res.status).toBe(204);
    for (const t of [first, second, third]) expect(await valid(other.token, t.token)).toBe(false);
    expect(await valid(other.token, other.token)).toBe(true);
    const cli = await cliRescope(third.token, "cloud-2:u-alice");
    expect(cli.ok).toBe(false);
    expect(cli.ok ? "" : cli.stderr).toMatch(/401|revoked|authentication/i);
    expect((await cliRescope(other.token, "cloud-2:u-alice")).ok).toBe(true);
  }, 120_000);
});

describe("an administrator ending a session", () => {
  it("kills the facade tokens of that session and leaves the person's other sessions alone", async () => {
    const admin = await login("cloud-1:u-alice");
    const victim = await login("cloud-1:u-alice");
    const child = await rescope(victim.token, "cloud-2:u-alice");
    const { sid, sub } = decodeJwt(victim.token) as { sid: string; sub: string };
    const listed = await fetch(`${h.url}/api/v1/admin/sessions?person=${encodeURIComponent(sub)}`, {
      headers: { "x-auth-token": admin.token },
    });
    expect(listed.status).toBe(200);
    const sessions = ((await listed.json()) as { sessions: { sid: string }[] }).sessions.map((s) => s.sid);
    expect(sessions).toContain(sid);
    const ended = await fetch(`${h.url}/api/v1/admin/sessions/${sid}`, {
      method: "DELETE",
      headers: { "x-auth-token": admin.token },
    });
    expect(ended.status).toBe(204);
    expect(await valid(admin.token, victim.token)).toBe(false);
    expect(await valid(admin.token, child.token)).toBe(false);
    const refused = await fetch(`${h.url}/v3/auth/projects`, { headers: { "x-auth-token": victim.token } });
    expect(refused.status).toBe(401);
    const proxied = await fetch(`${h.url}/clouds/cloud-1/identity/v3/auth/projects`, {
      headers: { "x-auth-token": child.token },
    });
    expect(proxied.status).toBe(401);
    expect((await cliRescope(victim.token, "cloud-1:u-alice")).ok).toBe(false);
    expect(await valid(admin.token, admin.token)).toBe(true);
  }, 120_000);
});
