import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { buildGateway, type Gateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { hashPassword } from "../../../src/identity/index.js";
import { deleteKeystoneDomain, keystoneAdminToken } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";

/** People of the static source the federation tests sign in as. */
export const PEOPLE = {
  alice: { password: "alice-fed-pw", groups: ["devs"] },
  bob: { password: "bob-fed-pw", groups: ["ops"] },
} as const;

/** The relying parties configured in the harness. */
export const CLIENTS = {
  cli1: { id: "cli-fed-1", secret: "cli-fed-1-secret" },
  cli2: { id: "cli-fed-2", secret: "cli-fed-2-secret" },
  web: { id: "web-app", secret: "web-app-secret", redirectUri: "http://127.0.0.1:18999/callback" },
  spa: { id: "spa", redirectUri: "http://127.0.0.1:18999/spa" },
  service: { id: "svc", secret: "svc-secret" },
  device: { id: "device-cli" },
} as const;

/** A running Archway on https, the identity provider of the test environment's two federated Keystones. */
export interface IdpHarness {
  env: Endpoints;
  url: string;
  domain: string;
  runtime: Runtime;
  gateway: Gateway;
  /** Trusts the test CA (for fetch and openid-client). */
  dispatcher: Agent;
  /** Stops Archway, keeping what it made in the clouds. */
  stop(): Promise<void>;
}

/**
 * Starts Archway on the port the federated Keystones' mod_auth_openidc fetches keys from, with `policies` (file
 * name -> YAML) and the clouds fed-1 and fed-2 in federated mode, their objects in `domain`.
 */
export async function startIdp(opts: {
  domain: string;
  policies: Record<string, string>;
  /** More entries of `idp.clients`, each one YAML flow mapping (`{ id: ..., ... }`). */
  extraClients?: readonly string[];
}): Promise<IdpHarness> {
  const env = loadEndpoints();
  const dir = mkdtempSync(join(tmpdir(), "archway-idp-"));
  const fed = env.federation;
  const hash = async (s: string) => hashPassword(s, { N: 1024 });
  const users = await Promise.all(
    Object.entries(PEOPLE).map(
      async ([name, p]) =>
        `        - { username: ${name}, passwordHash: "${await hash(p.password)}", groups: [${p.groups.join(", ")}], email: ${name}@example.org }\n`,
    ),
  );
  const clouds = fed.keystones
    .map(
      (k) =>
        `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n    mode: federated\n    domain: ${opts.domain}\n    labels: { kind: federated }\n    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`,
    )
    .join("");
  const { cli1, cli2, web, spa, service, device } = CLIENTS;
  writeFileSync(
    join(dir, "archway.yaml"),
    // demo: the test Keystones' admin password is the public demo one (config/secrets/demo-cloud-admin).
    `demo: true\nlisten: { host: 127.0.0.1, port: ${fed.idpPort}, tls: { certFile: "${fed.tls.certFile}", keyFile: "${fed.tls.keyFile}" } }\n` +
      `publicUrl: ${fed.idpUrl}\n` +
      `secrets: { shadowPasswordKey: "${randomBytes(32).toString("base64url")}", sessionKey: "${randomBytes(32).toString("base64url")}" }\n` +
      `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n${users.join("")}` +
      `policiesDir: policies\nlog: { level: warn }\nclouds:\n${clouds}` +
      `idp:\n  clients:\n` +
      `    - { id: ${cli1.id}, secret: ${cli1.secret}, grants: [password, refresh_token], clouds: [fed-1] }\n` +
      `    - { id: ${cli2.id}, secret: ${cli2.secret}, grants: [password], clouds: [fed-2] }\n` +
      `    - { id: ${web.id}, secret: ${web.secret}, grants: [authorization_code, refresh_token], redirectUris: ["${web.redirectUri}"], postLogoutRedirectUris: ["${web.redirectUri}"], clouds: [fed-1] }\n` +
      `    - { id: ${spa.id}, public: true, grants: [authorization_code, refresh_token], redirectUris: ["${spa.redirectUri}"] }\n` +
      `    - { id: ${service.id}, secretHash: "${await hash(service.secret)}", grants: [client_credentials], clouds: [fed-1] }\n` +
      `    - { id: ${device.id}, public: true, grants: ["urn:ietf:params:oauth:grant-type:device_code", refresh_token], clouds: [fed-1] }\n` +
      (opts.extraClients ?? []).map((c) => `    - ${c}\n`).join(""),
  );
  mkdirSync(join(dir, "policies"));
  for (const [file, yaml] of Object.entries(opts.policies)) writeFileSync(join(dir, "policies", file), yaml);
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server: RunningServer = await startServer(app, {
    host: "127.0.0.1",
    port: fed.idpPort,
    log: runtime.log,
    tls: runtime.loaded.config.listen.tls,
  });
  const dispatcher = new Agent({ connect: { ca: (await import("node:fs")).readFileSync(env.ca.certFile) } });
  return {
    env,
    url: server.url,
    domain: opts.domain,
    runtime,
    gateway,
    dispatcher,
    async stop() {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      await dispatcher.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh domain name for one test file's run. */
export function runDomain(): string {
  return `fed-${randomBytes(4).toString("hex")}`;
}

/**
 * Removes what federation tests leave in a federated Keystone: the identity provider `archway` (its shadow users go
 * with it), its mapping, and the run's domain with its projects and groups.
 */
export async function cleanFederatedCloud(cloudId: string, authUrl: string, domain?: string): Promise<void> {
  const token = await keystoneAdminToken(cloudId).catch(() => undefined);
  if (!token) return;
  const headers = { "x-auth-token": token, "content-type": "application/json" };
  await fetch(`${authUrl}/OS-FEDERATION/identity_providers/archway`, { method: "DELETE", headers });
  await fetch(`${authUrl}/OS-FEDERATION/mappings/archway-mapping`, { method: "DELETE", headers });
  if (domain) await deleteKeystoneDomain(cloudId, authUrl, domain);
}
