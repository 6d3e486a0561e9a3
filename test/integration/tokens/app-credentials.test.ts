import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keystoneAdminToken } from "../../env/control.js";
import { TestBrowser } from "../../helpers/browser.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Application credentials made on request through /api/v1, used by the real openstack CLI straight against the
// cloud's Keystone, then revoked.
const run = promisify(execFile);
let h: FacadeHarness;
let token: string;
const home = mkdtempSync(join(tmpdir(), "archway-appcred-"));

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${h.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

function tokenIssue(cloud: string) {
  return run("/usr/bin/openstack", ["--os-cloud", cloud, "token", "issue", "-f", "json"], {
    env: { PATH: "/usr/bin:/bin", HOME: home },
    timeout: 60_000,
  });
}

beforeAll(async () => {
  h = await startFacade(18097);
  const login = await fetch(`${h.url}/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "alice", password: h.password } } },
        scope: { project: { name: "cloud-2:u-alice", domain: { name: "archway" } } },
      },
    }),
  });
  expect(login.status).toBe(201);
  token = login.headers.get("x-subject-token") ?? "";
}, 120_000);

afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("application credentials on request", () => {
  it("only in the project the bearer token is scoped to: a cloud-2 token cannot make one in cloud-1", async () => {
    const refused = await api("POST", "/api/v1/me/application-credentials", { project: "cloud-1:u-alice" });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: "scope_mismatch" } });
    const unscoped = await fetch(`${h.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: h.password } } } },
      }),
    });
    const res = await fetch(`${h.url}/api/v1/me/application-credentials`, {
      method: "POST",
      headers: { "x-auth-token": unscoped.headers.get("x-subject-token") ?? "", "content-type": "application/json" },
      body: JSON.stringify({ project: "cloud-2:u-alice" }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "scope_required" } });
  });

  it("made for one project, used by the openstack CLI without Archway, revoked", async () => {
    const created = await api("POST", "/api/v1/me/application-credentials", { project: "cloud-2:u-alice" });
    expect(created.status).toBe(201);
    const yaml = created.body.cloudsYaml as string;
    expect(yaml).toContain("auth_type: v3applicationcredential");
    expect(yaml).toContain(h.env.keystones[1]?.authUrl);
    mkdirSync(join(home, ".config/openstack"), { recursive: true });
    writeFileSync(join(home, ".config/openstack/clouds.yaml"), yaml);

    const issued = JSON.parse((await tokenIssue("cloud-2-u-alice-appcred")).stdout) as { project_id: string };
    expect(issued.project_id).toMatch(/^[0-9a-f]{32}$/);
    const listed = await api("GET", "/api/v1/me/application-credentials");
    const records = listed.body.applicationCredentials as { id: string; project: string }[];
    expect(records.map((r) => r.project)).toEqual(["cloud-2:u-alice"]);
    expect(JSON.stringify(listed.body)).not.toContain("secret");

    expect((await api("DELETE", `/api/v1/me/application-credentials/${records[0]?.id}`)).status).toBe(204);
    await expect(tokenIssue("cloud-2-u-alice-appcred")).rejects.toThrow();
    expect((await api("DELETE", `/api/v1/me/application-credentials/${records[0]?.id}`)).status).toBe(404);
  }, 120_000);

  it("expires within the configured maximum (90 days by default), as Keystone itself records it", async () => {
    const DAY = 24 * 3600 * 1000;
    const keystone = h.env.keystones[1];
    if (!keystone) throw new Error("no second cloud in the test environment");
    const admin = await keystoneAdminToken(keystone.id);
    const inKeystone = async (record: { id: string; userId: string }) => {
      const res = await fetch(`${keystone.authUrl}/users/${record.userId}/application_credentials/${record.id}`, {
        headers: { "x-auth-token": admin },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { application_credential: { expires_at: string | null } };
      // Keystone answers UTC without a zone ("2027-03-05T23:59:59.000000").
      return Date.parse(`${body.application_credential.expires_at?.replace(/Z?$/, "Z")}`);
    };
    const before = Date.now();
    const created = await api("POST", "/api/v1/me/application-credentials", { project: "cloud-2:u-alice" });
    expect(created.status).toBe(201);
    const record = created.body.applicationCredential as { id: string; userId: string; expiresAt: string };
    const expires = await inKeystone(record);
    expect(expires).toBeGreaterThan(before + 89 * DAY);
    expect(expires).toBeLessThanOrEqual(Date.now() + 90 * DAY);
    expect(Math.abs(expires - Date.parse(record.expiresAt))).toBeLessThan(2_000);
    expect(created.body.cloudsYaml as string).toContain("It expires");

    // A shorter lifetime is honoured; a longer one than the maximum is refused, not shortened.
    const short = await api("POST", "/api/v1/me/application-credentials", { project: "cloud-2:u-alice", days: 1 });
    expect(short.status).toBe(201);
    const shortExpiry = await inKeystone(short.body.applicationCredential as { id: string; userId: string });
    expect(shortExpiry).toBeLessThanOrEqual(Date.now() + DAY);
    expect(shortExpiry).toBeGreaterThan(before + DAY - 60_000);
    const long = await api("POST", "/api/v1/me/application-credentials", { project: "cloud-2:u-alice", days: 365 });
    expect(long.status).toBe(400);
    expect(JSON.stringify(long.body)).toContain("90 days");

    // The page shows each credential's expiry and the maximum.
    const browser = new TestBrowser();
    const login = await browser.follow(`${h.url}/login`);
    await browser.submit(login, /\/login\/password/, { username: "alice", password: h.password });
    const page = await browser.request(`${h.url}/app-credentials`);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Expires");
    expect(page.html).toContain(`${record.expiresAt.slice(0, 16).replace("T", " ")} UTC`);
    expect(page.html).toContain("at most 90 days");

    for (const made of [record, short.body.applicationCredential as { id: string }])
      expect((await api("DELETE", `/api/v1/me/application-credentials/${made.id}`)).status).toBe(204);
  }, 120_000);

  it("refuses the token with `==` appended to its signature or payload (issue 22 item 9); the original works", async () => {
    const [header, payload, signature] = token.split(".");
    const variants = [`${header}.${payload}.${signature}==`, `${header}.${payload}==.${signature}`];
    for (const variant of variants) {
      const api = await fetch(`${h.url}/api/v1/me/application-credentials`, {
        headers: { authorization: `Bearer ${variant}` },
      });
      expect(api.status).toBe(401);
      const facade = await fetch(`${h.url}/v3/auth/tokens`, {
        headers: { "x-auth-token": variant, "x-subject-token": token },
      });
      expect(facade.status).toBe(401);
    }
    expect((await api("GET", "/api/v1/me/application-credentials")).status).toBe(200);
    const facade = await fetch(`${h.url}/v3/auth/tokens`, {
      headers: { "x-auth-token": token, "x-subject-token": token },
    });
    expect(facade.status).toBe(200);
  });

  it("refuses a project that is not granted, and anyone without a token", async () => {
    expect((await api("POST", "/api/v1/me/application-credentials", { project: "cloud-2:someone-else" })).status).toBe(
      404,
    );
    const anonymous = await fetch(`${h.url}/api/v1/me/application-credentials`);
    expect(anonymous.status).toBe(401);
  });
});
