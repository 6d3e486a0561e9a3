import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPasswordSource } from "../../../src/identity/index.js";
import { entitledProjects } from "../../../src/tokens/index.js";
import { keystoneAdminToken } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { CLIENTS, cleanFederatedCloud, type IdpHarness, PEOPLE, runDomain, startIdp } from "./harness.js";

// Real Keystones (fed-1, fed-2) behind Apache + mod_auth_openidc trust Archway over https; the real `openstack`
// CLI logs in with keystoneauth's v3oidcpassword and v3oidcaccesstoken plugins.
const run = promisify(execFile);
const env = loadEndpoints();
const [fed1, fed2] = env.federation.keystones as [
  (typeof env.federation.keystones)[0],
  (typeof env.federation.keystones)[0],
];
const domain = runDomain();
const home = mkdtempSync(join(tmpdir(), "archway-fed-cli-"));
let h: IdpHarness;

const policy = (name: string, group: string, roles: string[]) =>
  `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${name} }\nspec:\n  subjects: { groups: { anyOf: [${group}] } }\n  clouds: { labels: { kind: federated } }\n  grants: [{ project: shared, roles: [${roles.join(", ")}], create: true }]\n  keys: false\n`;
const POLICIES_V1 = {
  "devs.yaml": policy("devs-shared", "devs", ["member"]),
  "ops.yaml": policy("ops-shared", "ops", ["reader"]),
};
const POLICIES_V2 = {
  "devs.yaml": policy("devs-shared", "devs", ["reader"]),
  "ops.yaml": policy("ops-shared", "ops", ["reader"]),
};

async function syncAll() {
  const { results } = await h.gateway.sync!.service.full({ runId: `fed-${Date.now()}` });
  for (const r of results) expect(r, r.reason).toMatchObject({ outcome: "converged" });
}

/** The kinds of the operations a plan of `cloudId` would apply now. */
async function plannedKinds(cloudId: string): Promise<string[]> {
  const plans = await h.gateway.sync!.service.plan({ cloudId });
  const plan = plans.find((p) => p.cloudId === cloudId);
  if (!plan || !("operations" in plan)) throw new Error(`no plan for ${cloudId}: ${JSON.stringify(plan)}`);
  return plan.operations.map((o) => o.kind);
}

async function openstack(args: string[]): Promise<Record<string, string>> {
  const { stdout } = await run("/usr/bin/openstack", [...args, "-f", "json"], {
    env: { PATH: "/usr/bin:/bin", HOME: home },
    timeout: 90_000,
  });
  return JSON.parse(stdout) as Record<string, string>;
}

const common = (cloud: typeof fed1) => [
  "--os-auth-url",
  cloud.authUrl,
  "--os-identity-api-version",
  "3",
  "--os-identity-provider",
  "archway",
  "--os-protocol",
  "openid",
  "--os-project-name",
  "shared",
  "--os-project-domain-name",
  domain,
  "--os-cacert",
  env.ca.certFile,
];

/** Logs in with v3oidcpassword; returns the Keystone token's project and role names. */
async function passwordLogin(cloud: typeof fed1, client: { id: string; secret: string }, who: keyof typeof PEOPLE) {
  const token = await openstack([
    ...common(cloud),
    "--os-auth-type",
    "v3oidcpassword",
    "--os-client-id",
    client.id,
    "--os-client-secret",
    client.secret,
    "--os-discovery-endpoint",
    `${h.url}/.well-known/openid-configuration`,
    "--os-openid-scope",
    "openid profile",
    "--os-username",
    who,
    "--os-password",
    PEOPLE[who].password,
    "token",
    "issue",
  ]);
  return describeToken(cloud, token.id as string);
}

async function describeToken(cloud: typeof fed1, id: string) {
  const admin = await keystoneAdminToken(cloud.id);
  const res = await fetch(`${cloud.authUrl}/auth/tokens`, {
    headers: { "x-auth-token": admin, "x-subject-token": id },
  });
  expect(res.status).toBe(200);
  const t = (
    (await res.json()) as { token: { project: { name: string }; roles: { name: string }[]; user: { name: string } } }
  ).token;
  return { project: t.project.name, user: t.user.name, roles: t.roles.map((r) => r.name).sort() };
}

/** An access token from Archway's token endpoint (password grant), as keystoneauth would get one. */
async function accessToken(client: { id: string; secret: string }, who: keyof typeof PEOPLE): Promise<string> {
  const res = await fetch(`${h.url}/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({
      grant_type: "password",
      username: who,
      password: PEOPLE[who].password,
      scope: "openid",
    }),
    dispatcher: h.dispatcher,
  } as RequestInit);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

beforeAll(async () => {
  for (const k of env.federation.keystones) await cleanFederatedCloud(k.id, k.authUrl);
  h = await startIdp({ domain, policies: POLICIES_V1 });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  for (const k of env.federation.keystones) await cleanFederatedCloud(k.id, k.authUrl, domain);
  rmSync(home, { recursive: true, force: true });
});

describe("Keystone federation trusting Archway", () => {
  it("sync makes the groups, grants, identity provider, mapping and protocol; a second plan is empty", async () => {
    const kinds = await plannedKinds("fed-1");
    for (const kind of [
      "ensureDomain",
      "createProject",
      "createGroup",
      "grantGroup",
      "ensureIdentityProvider",
      "ensureMapping",
      "ensureProtocol",
    ])
      expect(kinds).toContain(kind);
    await syncAll();
    expect(await plannedKinds("fed-1")).toEqual([]);
    expect(await plannedKinds("fed-2")).toEqual([]);
  }, 180_000);

  it("openstack CLI v3oidcpassword: a project-scoped token with exactly the roles the policies grant", async () => {
    // Keystone adds implied roles to tokens: member implies reader.
    expect(await passwordLogin(fed1, CLIENTS.cli1, "alice")).toEqual({
      project: "shared",
      user: "alice",
      roles: ["member", "reader"],
    });
    expect(await passwordLogin(fed1, CLIENTS.cli1, "bob")).toEqual({
      project: "shared",
      user: "bob",
      roles: ["reader"],
    });
  }, 180_000);

  it("openstack CLI v3oidcaccesstoken with a token from Archway's token endpoint", async () => {
    const token = await openstack([
      ...common(fed2),
      "--os-auth-type",
      "v3oidcaccesstoken",
      "--os-access-token",
      await accessToken(CLIENTS.cli2, "alice"),
      "token",
      "issue",
    ]);
    expect(await describeToken(fed2, token.id as string)).toEqual({
      project: "shared",
      user: "alice",
      roles: ["member", "reader"],
    });
  }, 120_000);

  it("a token minted for fed-1's audience is refused by fed-2, and accepted by fed-1", async () => {
    const forFed1 = await accessToken(CLIENTS.cli1, "alice");
    const auth = (cloud: typeof fed1) =>
      fetch(`${cloud.authUrl}/OS-FEDERATION/identity_providers/archway/protocols/openid/auth`, {
        method: "POST",
        headers: { authorization: `Bearer ${forFed1}` },
      });
    expect((await auth(fed2)).status).toBe(401);
    expect((await auth(fed1)).status).toBe(201);
  }, 60_000);

  it("the token broker exchanges an Archway access token at a federated cloud and scopes it", async () => {
    const source = h.runtime.sources.find(isPasswordSource);
    const identity = await source?.login("alice", PEOPLE.alice.password);
    if (!identity) throw new Error("alice cannot sign in");
    const project = entitledProjects(identity, h.gateway.facade.policies()).find((p) => p.cloudId === "fed-2");
    if (!project) throw new Error("alice has no project in fed-2");
    const brokered = await h.gateway.facade.broker.projectToken(identity, project);
    expect(await describeToken(fed2, brokered.token)).toEqual({
      project: "shared",
      user: "alice",
      roles: ["member", "reader"],
    });
    // Cached: the same token comes back without another login.
    expect((await h.gateway.facade.broker.projectToken(identity, project)).token).toBe(brokered.token);
  }, 60_000);

  it("after a policy change and a sync, the next login reflects it", async () => {
    await h.stop();
    h = await startIdp({ domain, policies: POLICIES_V2 });
    // devs now share ops' group (shared:reader): their old group loses its grant, leaves the mapping and is deleted.
    expect((await plannedKinds("fed-1")).sort()).toEqual(["deleteGroup", "ensureMapping", "revokeGroup"]);
    await syncAll();
    expect(await passwordLogin(fed1, CLIENTS.cli1, "alice")).toEqual({
      project: "shared",
      user: "alice",
      roles: ["reader"],
    });
  }, 240_000);
});
