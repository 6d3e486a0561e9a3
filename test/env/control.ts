import { execFileSync } from "node:child_process";
import { Client } from "ldapts";
import { type Endpoints, loadEndpoints, repoRoot } from "./endpoints.js";

/** Services a failure test may stop and start again. */
export type ServiceName = "redis" | "slapd" | "oidc" | "samba" | `keystone-${number}` | `nova-${number}`;

/** Stops one test-environment service (by its PID file). */
export function stopService(name: ServiceName): void {
  execFileSync("bash", ["test/env/testenv.sh", "stop", name], { cwd: repoRoot, stdio: "inherit" });
}

/** Starts one test-environment service again and waits until it answers. */
export function startService(name: ServiceName): void {
  execFileSync("bash", ["test/env/testenv.sh", "start", name], { cwd: repoRoot, stdio: "inherit" });
}

/** A project-scoped admin token of one test Keystone (plain REST, no Archway code involved). */
export async function keystoneAdminToken(cloudId: string, endpoints: Endpoints = loadEndpoints()): Promise<string> {
  const ks = [...endpoints.keystones, ...endpoints.federation.keystones].find((k) => k.id === cloudId);
  if (!ks) throw new Error(`no keystone ${cloudId} in the test environment`);
  const res = await fetch(`${ks.authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: ks.adminUsername, domain: { id: "default" }, password: ks.adminPassword } },
        },
        scope: { project: { name: ks.adminProject, domain: { id: "default" } } },
      },
    }),
  });
  const token = res.headers.get("x-subject-token");
  if (res.status !== 201 || !token) throw new Error(`admin login to ${cloudId} failed: ${res.status}`);
  return token;
}

/** An ldapts client bound as the directory's root DN (the caller unbinds). */
export async function ldapAdmin(endpoints: Endpoints = loadEndpoints()): Promise<Client> {
  const client = new Client({ url: endpoints.ldap.url, timeout: 10_000, connectTimeout: 5_000 });
  await client.bind(endpoints.ldap.adminDn, endpoints.ldap.adminPassword);
  return client;
}

/**
 * Deletes a test run's Keystone domain by name in one cloud (disabled first, as Keystone requires); its projects,
 * users and groups go with it. Nova keypairs of deleted users are orphans the test environment tolerates.
 */
export async function deleteKeystoneDomain(cloudId: string, authUrl: string, name: string): Promise<void> {
  const token = await keystoneAdminToken(cloudId).catch(() => undefined);
  if (!token) return;
  const headers = { "x-auth-token": token, "content-type": "application/json" };
  const found = (await (await fetch(`${authUrl}/domains?name=${name}`, { headers })).json()) as {
    domains?: { id: string }[];
  };
  for (const d of found.domains ?? []) {
    await fetch(`${authUrl}/domains/${d.id}`, {
      method: "PATCH",
      headers,
      body: JSON.stringify({ domain: { enabled: false } }),
    });
    await fetch(`${authUrl}/domains/${d.id}`, { method: "DELETE", headers });
  }
}
