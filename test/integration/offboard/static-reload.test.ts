import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../../src/identity/index.js";
import { deleteKeystoneDomain, keystoneAdminToken } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";

// A real `archway serve` process (embedded store: it runs the looks for departures itself) with a static source, in
// front of the test environment's Keystones. The person is removed from the YAML and only that process gets SIGHUP.

const PORT = 18093;
const URL_ = `http://127.0.0.1:${PORT}`;

describe("static source: a config reload (SIGHUP) offboards the people it removed", () => {
  let env: Endpoints;
  let dir: string;
  let child: ChildProcess;
  let output = "";
  const domain = `reload-${randomBytes(4).toString("hex")}`;
  const pw = (u: string) => `${u}-reload-pw`;

  async function writeConfig(users: string[], extra = ""): Promise<void> {
    const lines = await Promise.all(
      users.map(
        async (u) =>
          `        - { username: ${u}, passwordHash: "${await hashPassword(pw(u), { N: 1024 })}", groups: [devs] }\n`,
      ),
    );
    const clouds = env.keystones
      .map(
        (k) =>
          `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n    domain: ${domain}\n    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`,
      )
      .join("");
    writeFileSync(
      join(dir, "archway.yaml"),
      // demo: the test Keystones' admin password is the public demo one.
      `demo: true\nlisten: { host: 127.0.0.1, port: ${PORT} }\npublicUrl: ${URL_}\n` +
        `secrets: { shadowPasswordKey: "${"k".repeat(43)}" }\n` +
        `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n${lines.join("")}` +
        `policiesDir: policies\nlog: { level: info }\nsync: { intervalSeconds: 900, incrementalSeconds: 0 }\n` +
        `offboard: { detectSeconds: 60, retrySeconds: 1 }\nclouds:\n${clouds}${extra}`,
    );
  }

  async function login(username: string): Promise<{ status: number; token: string }> {
    const res = await fetch(`${URL_}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: username, password: pw(username) } } },
          scope: { project: { name: `cloud-2:u-${username}`, domain: { name: "archway" } } },
        },
      }),
    });
    await res.arrayBuffer();
    return { status: res.status, token: res.headers.get("x-subject-token") ?? "" };
  }

  async function tokenValid(token: string): Promise<boolean> {
    const res = await fetch(`${URL_}/v3/auth/tokens`, { headers: { "x-auth-token": token, "x-subject-token": token } });
    await res.arrayBuffer();
    return res.status === 200;
  }

  /** The shadow user's `enabled` in the real Keystone of `cloudId`, or undefined when it does not exist. */
  async function shadowEnabled(cloudId: string, username: string): Promise<boolean | undefined> {
    const ks = env.keystones.find((k) => k.id === cloudId)!;
    const admin = await keystoneAdminToken(cloudId, env);
    const get = async (path: string) =>
      (await (await fetch(`${ks.authUrl}${path}`, { headers: { "x-auth-token": admin } })).json()) as Record<
        string,
        { id: string; enabled?: boolean }[]
      >;
    const d = (await get(`/domains?name=${domain}`)).domains?.[0];
    if (!d) return undefined;
    return (await get(`/users?domain_id=${d.id}&name=${username}`)).users?.[0]?.enabled;
  }

  async function waitForOutput(pattern: RegExp, seconds: number): Promise<void> {
    const until = Date.now() + seconds * 1000;
    while (!pattern.test(output)) {
      if (Date.now() > until) throw new Error(`no ${pattern} in the output:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    env = loadEndpoints();
    dir = mkdtempSync(join(tmpdir(), "archway-static-reload-"));
    mkdirSync(join(dir, "policies"));
    writeFileSync(
      join(dir, "policies", "devs.yaml"),
      `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: "u-{{ username }}", roles: [member], create: true }]\n  keys: false\n`,
    );
    await writeConfig(["alice", "bob"]);
    child = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "serve", "--config", join(dir, "archway.yaml")],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1" },
      },
    );
    child.stdout?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    child.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
    });
    await waitForOutput(/Archway listening on/, 60);
  }, 90_000);

  afterAll(async () => {
    // Only the process this test started, by its PID.
    if (child?.pid && child.exitCode === null) process.kill(child.pid, "SIGKILL");
    await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an invalid file (the old configuration stays), then offboards the person a valid one removed", async () => {
    const bob = await login("bob");
    expect(bob.status).toBe(201);
    // A proxied call: the broker provisions bob's shadow user in cloud-2 just in time.
    const proxied = await fetch(`${URL_}/clouds/cloud-2/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": bob.token },
    });
    expect(proxied.status).toBe(200);
    expect(await shadowEnabled("cloud-2", "bob")).toBe(true);

    writeFileSync(join(dir, "archway.yaml"), "listen: [ this is not valid\n");
    process.kill(child.pid!, "SIGHUP");
    await waitForOutput(/configuration not reloaded/, 15);
    expect(await tokenValid(bob.token)).toBe(true);
    expect((await login("bob")).status).toBe(201);

    await writeConfig(["alice"]);
    const since = Date.now();
    process.kill(child.pid!, "SIGHUP");
    await waitForOutput(/configuration reloaded/, 15);
    for (;;) {
      const done = !(await tokenValid(bob.token)) && (await shadowEnabled("cloud-2", "bob")) === false;
      if (done) break;
      if (Date.now() - since > 20_000) throw new Error(`bob not offboarded in 20 s:\n${output.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Well inside the 60 s interval: the reload looks at once.
    expect((Date.now() - since) / 1000).toBeLessThan(20);
    expect((await login("bob")).status).toBe(401);
    expect((await login("alice")).status).toBe(201);
    expect(output).toMatch(/"removed":\["bob"\]/);
  }, 90_000);
});
