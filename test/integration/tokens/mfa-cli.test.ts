import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOTP_PERIOD_SECONDS, totpCode } from "../../../src/identity/index.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Keystone's multi-factor sign-in on Archway's /v3 (docs/mfa.md): a password alone answers 401 with an auth receipt,
// the receipt and the `totp` method complete it, and the real `openstack` CLI with `v3multifactor` (password and
// TOTP in one request) gets a project token and lists keypairs in cloud-2 through the proxy. The OAuth password
// grant refuses the same person.
const run = promisify(execFile);
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
let h: FacadeHarness;
/** bob's facade token (password + TOTP): bob is an administrator (web.admins). */
let bobToken = "";
const home = mkdtempSync(join(tmpdir(), "archway-mfa-cli-"));
/** Per person: the TOTP key and the last step whose code was used (each step's code is accepted once). */
const factors = new Map<string, { secret: string; lastStep: number }>();

/** Signs in on the web pages with plain HTTP and confirms the forced enrolment of an authenticator. */
async function enrolOnTheWeb(username: string): Promise<void> {
  const login = await fetch(`${h.url}/login`);
  const cookie = (login.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())?.[1] ?? "";
  const post = (path: string, fields: Record<string, string>) =>
    fetch(`${h.url}${path}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, ...fields }),
      redirect: "manual",
    });
  const page = await (
    await post("/login/password", { source: "demo", username, password: h.passwordOf(username), return_to: "/" })
  ).text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page)?.[1] ?? "";
  const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(page)?.[1] ?? "";
  expect(secret).not.toBe("");
  const now = Date.now();
  const done = await post("/login/mfa/enrol", {
    pending: field("pending"),
    enrolment: field("enrolment"),
    code: totpCode(secret, now),
  });
  expect(await done.text()).toContain("Recovery codes");
  factors.set(username, { secret, lastStep: Math.floor(now / STEP_MS) });
}

/** A code for a step not used yet, waiting for the clock when the window (±1 step) holds none. */
async function nextCode(username: string): Promise<string> {
  const f = factors.get(username);
  if (!f) throw new Error(`${username} has no factor`);
  const step = Math.max(f.lastStep + 1, Math.floor(Date.now() / STEP_MS));
  while (Math.floor(Date.now() / STEP_MS) < step - 1) await new Promise((r) => setTimeout(r, 500));
  f.lastStep = step;
  return totpCode(f.secret, step * STEP_MS);
}

const passwordAuth = (username: string) => ({
  user: { name: username, domain: { name: "Default" }, password: h.passwordOf(username) },
});
const scope = (username: string) => ({ project: { name: `u-${username}`, domain: { name: "archway" } } });

async function issue(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

function cliEnv(username: string, region: string): NodeJS.ProcessEnv {
  return {
    PATH: "/usr/bin:/bin",
    HOME: home,
    OS_AUTH_URL: `${h.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: username,
    OS_PASSWORD: h.passwordOf(username),
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_NAME: `u-${username}`,
    OS_PROJECT_DOMAIN_NAME: "archway",
    OS_REGION_NAME: region,
    OS_INTERFACE: "public",
  };
}

/**
 * The CLI with `v3multifactor`. The methods come from clouds.yaml as a YAML list: keystoneauth1 5.0 reads
 * `--os-auth-methods v3password,v3totp` as one string and looks up a plugin per character ("The plugin v could not
 * be found"), so the list form is the one that works (docs/mfa.md).
 */
async function multifactor(username: string, args: string[], region = "cloud-1"): Promise<unknown> {
  const env = cliEnv(username, region);
  mkdirSync(join(home, ".config", "openstack"), { recursive: true });
  writeFileSync(
    join(home, ".config", "openstack", "clouds.yaml"),
    `clouds:\n  archway-mfa:\n    auth_type: v3multifactor\n    auth:\n      auth_url: "${env.OS_AUTH_URL}"\n` +
      `      auth_methods: [v3password, v3totp]\n      username: ${username}\n      password: "${env.OS_PASSWORD}"\n` +
      `      user_domain_name: Default\n      project_name: u-${username}\n      project_domain_name: archway\n` +
      `    region_name: ${region}\n    interface: public\n    identity_api_version: 3\n`,
  );
  const passcode = await nextCode(username);
  const { stdout } = await run(
    "/usr/bin/openstack",
    ["--os-cloud", "archway-mfa", "--os-auth-type", "v3multifactor", "--os-passcode", passcode, ...args],
    { env: { PATH: env.PATH, HOME: home }, timeout: 60_000 },
  ).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`${err.message}\n${err.stderr ?? ""}`);
  });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  h = await startFacade(18133, {
    sourceMfa: "required",
    extraConfig:
      "idp:\n  clients:\n    - { id: cli, secret: cli-secret, grants: [password] }\n" +
      "web:\n  admins: { usernames: [bob] }\n",
    users: [
      { username: "alice", groups: ["devs"] },
      { username: "bob", groups: ["devs"] },
    ],
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("multi-factor sign-in at the facade, as Keystone does it", () => {
  it("refuses a password alone before the person enrolled a factor, pointing at the web pages", async () => {
    const res = await issue({ auth: { identity: { methods: ["password"], password: passwordAuth("bob") } } });
    expect(res.status).toBe(401);
    expect(res.headers.get("openstack-auth-receipt")).toBeNull();
    expect(JSON.stringify(await res.json())).toContain("web pages");
  });

  it("answers a password alone with a receipt; the receipt and a TOTP code complete it, once", async () => {
    await enrolOnTheWeb("bob");
    const first = await issue({
      auth: { identity: { methods: ["password"], password: passwordAuth("bob") }, scope: scope("bob") },
    });
    expect(first.status).toBe(401);
    const receipt = first.headers.get("openstack-auth-receipt") ?? "";
    expect(receipt).not.toBe("");
    const body = (await first.json()) as {
      receipt: { methods: string[]; expires_at: string; user: { name: string } };
      required_auth_methods: string[][];
    };
    expect(body.receipt.methods).toEqual(["password"]);
    expect(body.receipt.user.name).toBe("bob");
    expect(Date.parse(body.receipt.expires_at)).toBeGreaterThan(Date.now());
    expect(body.required_auth_methods).toEqual([["password", "totp"]]);

    const totp = async () => ({ user: { name: "bob", domain: { name: "Default" }, passcode: await nextCode("bob") } });
    const wrong = await issue(
      { auth: { identity: { methods: ["totp"], totp: { user: { name: "bob", passcode: "000000" } } } } },
      { "openstack-auth-receipt": receipt },
    );
    expect(wrong.status).toBe(401);
    const second = await issue(
      { auth: { identity: { methods: ["totp"], totp: await totp() }, scope: scope("bob") } },
      { "openstack-auth-receipt": receipt },
    );
    expect(second.status).toBe(201);
    bobToken = second.headers.get("x-subject-token") ?? "";
    const token = (await second.json()) as { token: { methods: string[]; project: { name: string } } };
    expect(token.token.methods).toEqual(["password", "totp"]);
    expect(token.token.project.name).toBe("u-bob");
    // A receipt completes one sign-in only.
    const again = await issue(
      { auth: { identity: { methods: ["totp"], totp: await totp() } } },
      { "openstack-auth-receipt": receipt },
    );
    expect(again.status).toBe(401);
  });

  it("the unmodified CLI with v3multifactor gets a project token and lists keypairs in cloud-2 through the proxy", async () => {
    await enrolOnTheWeb("alice");
    const token = (await multifactor("alice", ["token", "issue", "-f", "json"])) as { project_id: string };
    expect(token.project_id).toMatch(/^[0-9a-f]{32}$/);
    // The next command needs the next step's code (a code is accepted once): this may wait up to 30 s.
    const keypairs = await multifactor("alice", ["keypair", "list", "-f", "json"], "cloud-2");
    expect(Array.isArray(keypairs)).toBe(true);
  }, 150_000);

  it("the CLI with a password alone gets the receipt 401 (keystoneauth: not all required auth rules)", async () => {
    const failed = await run("/usr/bin/openstack", ["token", "issue", "-f", "json"], {
      env: cliEnv("alice", "cloud-1"),
      timeout: 60_000,
    }).then(
      () => "",
      (err: { stderr?: string }) => err.stderr ?? "failed",
    );
    expect(failed).toMatch(/required auth rules/i);
  });

  it("the OAuth password grant refuses the person with invalid_grant, pointing at the device flow", async () => {
    const res = await fetch(`${h.url}/oauth2/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("cli:cli-secret").toString("base64")}`,
      },
      body: new URLSearchParams({
        grant_type: "password",
        username: "alice",
        password: h.passwordOf("alice"),
        scope: "openid",
      }),
    });
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_grant");
    expect(body.error_description).toContain("device");
  });

  it("an administrator's reset removes alice's factors: she must enrol again before the facade lets her in", async () => {
    const reset = await fetch(`${h.url}/api/v1/admin/mfa/reset`, {
      method: "POST",
      headers: { authorization: `Bearer ${bobToken}`, "content-type": "application/json" },
      body: JSON.stringify({ person: "demo:alice" }),
    });
    expect(reset.status).toBe(200);
    expect(((await reset.json()) as { removed: number }).removed).toBe(2);
    const res = await issue({ auth: { identity: { methods: ["password"], password: passwordAuth("alice") } } });
    expect(res.status).toBe(401);
    expect(res.headers.get("openstack-auth-receipt")).toBeNull();
    expect(JSON.stringify(await res.json())).toContain("web pages");
  });
});
