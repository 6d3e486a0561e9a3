import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { buildGateway, gatewayApp } from "../../src/cli/gateway.js";
import { buildRuntime } from "../../src/cli/runtime.js";
import { type RunningServer, startServer } from "../../src/http/index.js";
import { deleteKeystoneDomain, keystoneAdminToken } from "../env/control.js";
import { type Endpoints, loadEndpoints, repoRoot } from "../env/endpoints.js";
import { captureIO } from "../helpers/io.js";

/** A running Archway with the web pages, the facade and sync in front of the test environment. */
export interface WebHarness {
  env: Endpoints;
  url: string;
  /** Keystone domain unique to this run in every cloud (deleted on close). */
  domain: string;
  server: RunningServer;
  close(): Promise<void>;
}

/** Where screenshots go (gitignored). */
export const ARTIFACTS = join(repoRoot, "test-artifacts");

/**
 * Archway on `port` with the real slapd as the `corp` source and policies:
 * - `devs`: user0001 and user0010 get `u-<username>` (member) in cloud-1 and cloud-2, with their SSH keys;
 * - `ops`: members of `admins` among those two get `ops` (reader) in cloud-3.
 * `web.admins` names the LDAP group `admins` (user0010 is in it, user0001 is not).
 * `opts.publicHost` is the host of `publicUrl` and of `url` (`localhost` for WebAuthn, which refuses IP addresses);
 * the server listens on 127.0.0.1 either way. `opts.sourceMfa` is the `corp` source's `mfa` (absent: off).
 */
export async function startWeb(
  port: number,
  opts: { publicHost?: string; sourceMfa?: "optional" | "required" } = {},
): Promise<WebHarness> {
  const publicUrl = `http://${opts.publicHost ?? "127.0.0.1"}:${port}`;
  const env = loadEndpoints();
  const dir = mkdtempSync(join(tmpdir(), "archway-web-"));
  const domain = `web-${randomBytes(4).toString("hex")}`;
  const clouds = env.keystones
    .map(
      (k) =>
        `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n    domain: ${domain}\n` +
        `    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`,
    )
    .join("");
  writeFileSync(
    join(dir, "archway.yaml"),
    // demo: the test Keystones' admin password is the public demo one (config/secrets/demo-cloud-admin).
    `demo: true\nlisten: { host: 127.0.0.1, port: ${port} }\npublicUrl: ${publicUrl}\n` +
      `secrets: { shadowPasswordKey: "${randomBytes(32).toString("base64url")}", sessionKey: "${randomBytes(32).toString("base64url")}" }\n` +
      "identity:\n  sources:\n    - id: corp\n      type: ldap\n      preset: openldap\n" +
      `      urls: ["${env.ldap.url}"]\n      baseDn: "${env.ldap.baseDn}"\n      userBaseDn: "${env.ldap.peopleDn}"\n` +
      `      groupBaseDn: "${env.ldap.groupsDn}"\n      bindDn: "${env.ldap.bindDn}"\n      bindPassword: "${env.ldap.bindPassword}"\n` +
      (opts.sourceMfa ? `      mfa: ${opts.sourceMfa}\n` : "") +
      "web:\n  admins: { groups: { anyOf: [admins] } }\n" +
      `policiesDir: policies\nlog: { level: warn }\nclouds:\n${clouds}`,
  );
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "devs.yaml"),
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n" +
      "  subjects: { usernames: [user0001, user0010] }\n  clouds: { names: [cloud-1, cloud-2] }\n" +
      '  grants: [{ project: "u-{{ username }}", roles: [member] }]\n  keys: true\n' +
      "---\napiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops }\nspec:\n" +
      "  subjects: { usernames: [user0001, user0010], groups: { anyOf: [admins] } }\n  clouds: { names: [cloud-3] }\n" +
      "  grants: [{ project: ops, roles: [reader] }]\n",
  );
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server = await startServer(app, { host: "127.0.0.1", port, log: runtime.log });
  return {
    env,
    url: opts.publicHost ? publicUrl : server.url,
    domain,
    server,
    async close() {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium, headless, with nothing that phones home. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Keypairs Nova holds for the shadow user `username` of this run's domain in `cloudId`. */
export async function novaKeypairs(
  h: WebHarness,
  cloudId: string,
  username: string,
): Promise<{ name: string; public_key: string }[]> {
  const ks = h.env.keystones.find((k) => k.id === cloudId)!;
  const nova = h.env.novas.find((n) => n.cloud === cloudId)!;
  const admin = await keystoneAdminToken(cloudId);
  const get = async <T>(url: string, headers: Record<string, string> = {}) =>
    (await (await fetch(url, { headers: { "x-auth-token": admin, ...headers } })).json()) as T;
  const { domains } = await get<{ domains: { id: string }[] }>(`${ks.authUrl}/domains?name=${h.domain}`);
  if (!domains[0]) return [];
  const { users } = await get<{ users: { id: string }[] }>(
    `${ks.authUrl}/users?name=${encodeURIComponent(username)}&domain_id=${domains[0].id}`,
  );
  if (!users[0]) return [];
  const { keypairs } = await get<{ keypairs: { keypair: { name: string; public_key: string } }[] }>(
    `${nova.url}/os-keypairs?user_id=${users[0].id}`,
    { "openstack-api-version": "compute 2.10" },
  );
  return keypairs.map((k) => k.keypair);
}
