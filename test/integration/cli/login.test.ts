import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { launchChromium } from "../../e2e/web-harness.js";
import { repoRoot } from "../../env/endpoints.js";
import { freePort } from "../faults/own-redis.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";

// Issue 24, item 5: `archway login` runs the device flow against Archway, a headless Chromium approves it, and the
// REAL openstack CLI uses the clouds.yaml entries it wrote (v3token against the facade) in two clouds; --refresh
// rotates the token, --logout revokes it and removes only its own entries.
const run = promisify(execFile);
let h: FacadeHarness;
let browser: Browser;
const home = mkdtempSync(join(tmpdir(), "archway-login-home-"));
const cloudsFile = join(home, ".config", "openstack", "clouds.yaml");
const stateFile = join(home, ".config", "openstack", "archway-login.json");
const children = new Set<ChildProcess>();
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFk2K5pD4v5xHqY5j1xZr3YtY1dM5rH2q8Zk0s9U8mQw alice@laptop\n";

/** `archway login ...` from the sources with HOME in the test's folder. */
function login(args: string[]): { output(): string; exit: Promise<number> } {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "login", ...args], {
    cwd: repoRoot,
    env: { ...process.env, HOME: home, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exit = new Promise<number>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child);
      resolve(code ?? -1);
    }),
  );
  return { output: () => output, exit };
}

async function waitFor(what: string, check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The real openstack CLI with only the clouds file: no password anywhere in its environment. */
async function openstack(cloud: string, args: string[]): Promise<unknown> {
  const env = { PATH: "/usr/bin:/bin", HOME: home, OS_CLIENT_CONFIG_FILE: cloudsFile };
  const { stdout } = await run("/usr/bin/openstack", ["--os-cloud", cloud, ...args, "-f", "json"], {
    env,
    timeout: 90_000,
  });
  return stdout.trim() ? JSON.parse(stdout) : null;
}

const clouds = () =>
  (parse(readFileSync(cloudsFile, "utf8")) as { clouds: Record<string, Record<string, unknown>> }).clouds;
const tokenOf = (name: string) => (clouds()[name]?.auth as { token?: string } | undefined)?.token;

beforeAll(async () => {
  const port = await freePort();
  h = await startFacade(port, {
    extraConfig:
      "idp:\n  clients:\n    - id: archway-cli\n      public: true\n      facade: true\n" +
      '      grants: ["urn:ietf:params:oauth:grant-type:device_code", refresh_token]\n' +
      "    - id: other-cli\n      public: true\n" +
      '      grants: ["urn:ietf:params:oauth:grant-type:device_code", refresh_token]\n',
  });
  browser = await launchChromium();
  // Someone's own entry, which archway login must never touch.
  mkdirSync(join(home, ".config", "openstack"), { recursive: true });
  writeFileSync(
    cloudsFile,
    "# my clouds\nclouds:\n  mine:\n    auth: { auth_url: 'http://127.0.0.1:1/v3', username: me }\n    region_name: home\n",
  );
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await browser?.close();
  await h?.close();
  rmSync(home, { recursive: true, force: true });
}, 120_000);

describe("archway login: password-free CLI sign-in", () => {
  it("the device flow approved in a headless Chromium writes v3token entries per project and region", async () => {
    const cli = login(["--url", h.url]);
    await waitFor("the code", () => /\(or open (\S+)\)/.test(cli.output()), 60_000);
    const complete = cli.output().match(/\(or open (\S+)\)/)?.[1] ?? "";
    const code = cli.output().match(/enter the code (\S+)/)?.[1] ?? "";
    expect(complete).toContain(`${h.url}/device?user_code=`);

    const page = await (await browser.newContext()).newPage();
    await page.goto(complete);
    // Not signed in yet: the sign-in page, which brings the browser back to the device page.
    await page.getByLabel("Username").fill("alice");
    await page.getByLabel("Password").fill(h.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/device\?user_code=/);
    expect(await page.textContent("body")).toContain(code);
    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByText("Device connected").waitFor();

    expect(await cli.exit).toBe(0);
    expect(cli.output()).toContain("Signed in as alice");
    const written = clouds();
    expect(Object.keys(written).sort()).toEqual([
      "archway-u-alice-cloud-1",
      "archway-u-alice-cloud-2",
      "archway-u-alice-cloud-3",
      "mine",
    ]);
    expect(written["archway-u-alice-cloud-2"]).toMatchObject({
      auth_type: "v3token",
      auth: { auth_url: `${h.url}/v3`, project_name: "u-alice", project_domain_name: "archway" },
      region_name: "cloud-2",
    });
    expect(readFileSync(cloudsFile, "utf8")).toContain("# my clouds");
    expect(statSync(cloudsFile).mode & 0o777).toBe(0o600);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    // The facade token records how the approving browser session signed in (a password here): grants that wait
    // on a second factor read it (docs/mfa.md).
    const { accessToken } = JSON.parse(readFileSync(stateFile, "utf8")) as { accessToken: string };
    const claims = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as object;
    expect(claims).toMatchObject({ amr: ["pwd"], acr: "urn:archway:acr:1fa" });
  }, 180_000);

  it("the real openstack CLI uses the entries: keypairs created and listed in two clouds", async () => {
    const keyFile = join(home, "id.pub");
    writeFileSync(keyFile, KEY);
    for (const cloud of ["cloud-1", "cloud-2"]) {
      const name = `archway-u-alice-${cloud}`;
      await openstack(name, ["keypair", "create", "--public-key", keyFile, `login-${cloud}`]);
      const listed = (await openstack(name, ["keypair", "list"])) as { Name: string }[];
      expect(listed.map((k) => k.Name)).toEqual([`login-${cloud}`]);
    }
  }, 240_000);

  it("--status says who, until when, and the entries", async () => {
    const status = login(["--status"]);
    expect(await status.exit).toBe(0);
    expect(status.output()).toContain(`signed in as alice at ${h.url}`);
    expect(status.output()).toMatch(/token good until \S+ \(\d+ s left\)/);
    expect(status.output()).toContain("archway-u-alice-cloud-1, archway-u-alice-cloud-2, archway-u-alice-cloud-3");
  }, 60_000);

  it("--refresh rewrites the entries with a new token that works", async () => {
    const before = tokenOf("archway-u-alice-cloud-1");
    const refreshed = login(["--refresh"]);
    expect(await refreshed.exit).toBe(0);
    const after = tokenOf("archway-u-alice-cloud-1");
    expect(after).not.toBe(before);
    expect(tokenOf("archway-u-alice-cloud-2")).toBe(after);
    const listed = (await openstack("archway-u-alice-cloud-2", ["keypair", "list"])) as { Name: string }[];
    expect(listed.map((k) => k.Name)).toEqual(["login-cloud-2"]);
  }, 120_000);

  it("--logout revokes: the refresh token and the token in the entries stop working; only its entries go", async () => {
    const state = JSON.parse(readFileSync(stateFile, "utf8")) as { refreshToken: string; accessToken: string };
    const out = login(["--logout"]);
    expect(await out.exit).toBe(0);
    expect(Object.keys(clouds())).toEqual(["mine"]);
    expect(readFileSync(cloudsFile, "utf8")).toContain("# my clouds");
    expect(existsSync(stateFile)).toBe(false);

    const refresh = await fetch(`${h.url}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: state.refreshToken,
        client_id: "archway-cli",
      }),
    });
    expect(refresh.status).toBe(400);
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
    // The access token written into the entries is refused by the facade too.
    const scoped = await fetch(`${h.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["token"], token: { id: state.accessToken } },
          scope: { project: { name: "u-alice", domain: { name: "archway" } } },
        },
      }),
    });
    expect(scoped.status).toBe(401);
    const refreshAgain = login(["--refresh"]);
    expect(await refreshAgain.exit).toBe(1);
  }, 120_000);

  it("a client without facade: true cannot ask for facade tokens", async () => {
    const res = await fetch(`${h.url}/oauth2/device_authorization`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        client_id: "other-cli",
        scope: "openid offline_access",
        resource: "archway:keystone",
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_target");
  });

  it("the /cli page gives the same instructions with this Archway's address", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${h.url}/cli`);
    const text = (await page.textContent("body")) ?? "";
    expect(text).toContain(`archway login --url ${h.url}`);
    expect(text).toContain("archway login --refresh");
    expect(text).toContain("archway login --logout");
  }, 60_000);
});
