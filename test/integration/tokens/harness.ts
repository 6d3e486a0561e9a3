import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildGateway, type Gateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { hashPassword } from "../../../src/identity/index.js";
import { deleteKeystoneDomain } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";

/** A running Archway with the facade and proxy in front of the test environment's three clouds. */
export interface FacadeHarness {
  env: Endpoints;
  url: string;
  domain: string;
  password: string;
  /** The password of any of the harness's static users. */
  passwordOf(username: string): string;
  /** The configuration file Archway runs with (its secrets included). */
  configFile: string;
  server: RunningServer;
  /** The parts Archway runs with (sessions, token service, broker), for tests that need to reach behind HTTP. */
  gateway: Gateway;
  /** The runtime Archway runs with (store, metrics), for tests that need to reach behind HTTP. */
  runtime: Runtime;
  close(): Promise<void>;
}

/** What a test may change in the harness's configuration. */
export interface FacadeOptions {
  /** Static users (default: alice in devs); each one's password is `<username>-facade-pw`. */
  users?: { username: string; groups: string[] }[];
  /** Policy files by name (default: devs get `u-<username>` in every cloud). */
  policies?: Record<string, string>;
  /** A cloud's labels as a YAML flow map (default: `{ kind: region }`). */
  labels?: (cloudId: string) => string;
  /** Appended to the YAML (top-level keys such as `store:` or `idp:`). */
  extraConfig?: string;
  /** More identity sources after the static one, as YAML list items indented by four spaces. */
  extraSources?: string;
  /** The Keystone domain of shadow users and projects (default: one unique to this run); deleted on close. */
  domain?: string;
  /** `secrets.shadowPasswordKey` (default: a random one); two harnesses on one store need the same one. */
  shadowPasswordKey?: string;
  /** A cloud's Keystone URL (default: the test environment's; a fault test puts its own proxy in front). */
  authUrl?: (cloudId: string, real: string) => string;
  /** More keys of a cloud's entry, as YAML lines indented by four spaces (e.g. `    timeoutMs: 5000\n`). */
  cloudExtra?: (cloudId: string) => string;
  /** The static source's `mfa` mode (docs/mfa.md); absent: not set (off). */
  sourceMfa?: "required" | "optional" | "off";
}

const DEVS_POLICY = `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: "u-{{ username }}", roles: [member] }]\n  keys: false\n`;

/**
 * Starts Archway on `port` with a static user `alice` (groups devs) and a policy giving devs `u-<username>`
 * (member) in every cloud, unless `opts` says otherwise. Shadow users and projects go to a domain unique to this
 * run, deleted on close.
 */
export async function startFacade(port: number, opts: FacadeOptions = {}): Promise<FacadeHarness> {
  const env = loadEndpoints();
  const dir = mkdtempSync(join(tmpdir(), "archway-facade-"));
  const domain = opts.domain ?? `facade-${randomBytes(4).toString("hex")}`;
  const passwordOf = (username: string) => `${username}-facade-pw`;
  const password = passwordOf("alice");
  const labels = opts.labels ?? (() => "{ kind: region }");
  const clouds = env.keystones
    .map(
      (k) =>
        `  - id: ${k.id}\n    authUrl: "${opts.authUrl?.(k.id, k.authUrl) ?? k.authUrl}"\n    region: ${k.region}\n    domain: ${domain}\n    labels: ${labels(k.id)}\n    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n${opts.cloudExtra?.(k.id) ?? ""}`,
    )
    .join("");
  const users = (
    await Promise.all(
      (opts.users ?? [{ username: "alice", groups: ["devs"] }]).map(
        async (u) =>
          `        - { username: ${u.username}, passwordHash: "${await hashPassword(passwordOf(u.username), { N: 1024 })}", groups: [${u.groups.join(", ")}] }\n`,
      ),
    )
  ).join("");
  writeFileSync(
    join(dir, "archway.yaml"),
    // demo: the test Keystones' admin password is the public demo one (config/secrets/demo-cloud-admin).
    `demo: true\nlisten: { host: 127.0.0.1, port: ${port} }\npublicUrl: http://127.0.0.1:${port}\nsecrets: { shadowPasswordKey: "${opts.shadowPasswordKey ?? randomBytes(32).toString("base64url")}" }\n` +
      `identity:\n  sources:\n    - id: demo\n      type: static\n${opts.sourceMfa ? `      mfa: ${opts.sourceMfa}\n` : ""}      users:\n${users}${opts.extraSources ?? ""}` +
      `policiesDir: policies\nlog: { level: warn }\nclouds:\n${clouds}${opts.extraConfig ?? ""}`,
  );
  const policies = join(dir, "policies");
  (await import("node:fs")).mkdirSync(policies);
  for (const [name, text] of Object.entries(opts.policies ?? { devs: DEVS_POLICY }))
    writeFileSync(join(policies, `${name}.yaml`), text);
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server = await startServer(app, { host: "127.0.0.1", port, log: runtime.log });
  return {
    env,
    url: server.url,
    domain,
    password,
    passwordOf,
    configFile: join(dir, "archway.yaml"),
    server,
    gateway,
    runtime,
    async close() {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
