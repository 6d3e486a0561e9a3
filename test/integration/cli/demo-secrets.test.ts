import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword, identityId } from "../../../src/identity/index.js";
import { runCli } from "../../../src/main.js";
import { shadowPassword } from "../../../src/sync/index.js";
import { deleteKeystoneDomain } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";

// Issue 22, item 1, replayed against the real cloud-1 and cloud-2 Keystones. The attack: shadow passwords are an
// HMAC of secrets.shadowPasswordKey; with the public config/secrets/demo-shadow-key anyone computed alice's shadow
// password and got a token with admin, member and reader on `ops` straight from the clouds. Now no command starts
// with that key outside demo mode, so no shadow user ever gets the computable password.
const DEMO_SHADOW_KEY = readFileSync(resolve("config/secrets/demo-shadow-key"), "utf8").replace(/\r?\n$/, "");
let env: Endpoints;
let dir: string;
const domain = `demo-keys-${randomBytes(4).toString("hex")}`;
const clouds = () => env.keystones.filter((k) => k.id === "cloud-1" || k.id === "cloud-2");

/** Writes archway.yaml: alice with admin, member and reader on `ops` in cloud-1 and cloud-2, in this run's domain. */
async function writeConfig(opts: { host: string; shadowKeyFile: string; demo?: boolean }): Promise<string> {
  const cloudsYaml = clouds()
    .map(
      (k) =>
        `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n    domain: ${domain}\n` +
        `    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`,
    )
    .join("");
  const file = join(dir, "archway.yaml");
  writeFileSync(
    file,
    `${opts.demo ? "demo: true\n" : ""}listen: { host: "${opts.host}", port: 8080 }\n` +
      `secrets: { shadowPasswordKey: "\${file:${opts.shadowKeyFile}}" }\n` +
      `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n` +
      `        - { username: alice, passwordHash: "${await hashPassword("alice-pw", { N: 1024 })}", groups: [ops] }\n` +
      `policiesDir: policies\nlog: { level: warn }\nclouds:\n${cloudsYaml}deploymentId: demo-it\n`,
  );
  return file;
}

/** The attacker's move: a password login as alice's shadow user, straight at a cloud's Keystone. */
async function keystoneLogin(authUrl: string, password: string): Promise<{ status: number; roles: string[] }> {
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "alice", domain: { name: domain }, password } } },
        scope: { project: { name: "ops", domain: { name: domain } } },
      },
    }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: { roles?: { name: string }[] } };
  return { status: res.status, roles: (body.token?.roles ?? []).map((r) => r.name).sort() };
}

beforeAll(() => {
  env = loadEndpoints();
  dir = mkdtempSync(join(tmpdir(), "archway-demo-keys-"));
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "ops.yaml"),
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops }\nspec:\n  subjects: { groups: { anyOf: [ops] } }\n" +
      "  grants: [{ project: ops, roles: [admin, member, reader], create: true }]\n  keys: false\n",
  );
  // The demo key under another name: recognised by its content.
  copyFileSync(resolve("config/secrets/demo-shadow-key"), join(dir, "shadow.key"));
  writeFileSync(join(dir, "strong.key"), randomBytes(32).toString("base64"));
});
afterAll(async () => {
  await Promise.all(clouds().map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
  rmSync(dir, { recursive: true, force: true });
});

describe("the public demo shadow key against the real Keystones", () => {
  it("is refused by config check, serve, worker and sync on a non-loopback address; nothing reaches a cloud", async () => {
    // 192.0.2.1 (TEST-NET) is not loopback and not an address of this machine: nothing could bind it anyway.
    const file = await writeConfig({ host: "192.0.2.1", shadowKeyFile: "shadow.key" });
    for (const argv of [["config", "check"], ["serve"], ["worker"], ["sync", "apply"]]) {
      const io = captureIO(process.env);
      expect(await runCli([...argv, "--config", file], io), argv.join(" ")).toBe(2);
      expect(io.stderr()).toMatch(
        /archway\.yaml:2:\d+: secrets\.shadowPasswordKey: is the public demo secret of config\/secrets\/demo-shadow-key/,
      );
      expect(io.stdout()).not.toMatch(/listening|converged/);
    }
    // demo: true does not help off loopback.
    const demoFile = await writeConfig({ host: "192.0.2.1", shadowKeyFile: "shadow.key", demo: true });
    const io = captureIO(process.env);
    expect(await runCli(["sync", "apply", "--config", demoFile], io)).toBe(2);
    expect(io.stderr()).toMatch(/demo: demo: true is allowed only with a loopback listen address/);

    // The attacker computes alice's shadow password from the public key: no cloud accepts it.
    for (const k of clouds()) {
      const password = shadowPassword(DEMO_SHADOW_KEY, k.id, identityId("demo", "alice"), 1);
      expect((await keystoneLogin(k.authUrl, password)).status, k.id).toBe(401);
    }
  }, 120_000);

  it("with a strong key, sync provisions alice and only the strong key's password opens the clouds", async () => {
    // demo: true only because the test Keystones' admin password is the public demo one; loopback, so allowed.
    const file = await writeConfig({ host: "127.0.0.1", shadowKeyFile: "strong.key", demo: true });
    const io = captureIO(process.env);
    expect(await runCli(["sync", "apply", "--config", file], io), io.stderr()).toBe(0);
    expect(io.stderr()).toMatch(/WARNING: DEMO MODE .*clouds\[0\]\.admin\.password/);
    expect(io.stderr()).not.toMatch(/shadowPasswordKey/);
    const strong = readFileSync(join(dir, "strong.key"), "utf8");
    for (const k of clouds()) {
      const id = identityId("demo", "alice");
      expect(await keystoneLogin(k.authUrl, shadowPassword(strong, k.id, id, 1))).toEqual({
        status: 201,
        roles: ["admin", "member", "reader"],
      });
      expect((await keystoneLogin(k.authUrl, shadowPassword(DEMO_SHADOW_KEY, k.id, id, 1))).status).toBe(401);
    }
  }, 180_000);
});
