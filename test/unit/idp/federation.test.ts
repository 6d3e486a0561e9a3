import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { federationGroupName } from "../../../src/policy/index.js";
import { federationDesired, idpMark, planFederation } from "../../../src/sync/federated.js";
import type { ObservedCloud } from "../../../src/sync/observe.js";
import type { Ownership } from "../../../src/sync/ownership.js";
import { captureIO } from "../../helpers/io.js";

const cloud = CloudSchema.parse({
  id: "fed-1",
  authUrl: "http://127.0.0.1:15011/v3",
  mode: "federated",
  admin: { username: "admin", password: "x" },
});
const ISSUER = "https://archway.example";
const assignment = (project: string, role: string, identityId = "demo:alice") => ({
  identityId,
  project,
  projectDomain: "archway",
  role,
  policies: ["p"],
});
/** This deployment: `t`, not adopting the old marks. */
const OWN: Ownership = { deploymentId: "t", adoptUnmarked: false };
const observed = (over: Partial<ObservedCloud> = {}): ObservedCloud => ({
  cloudId: "fed-1",
  domainId: "d1",
  domains: new Map([["archway", "d1"]]),
  users: new Map(),
  foreignUserNames: new Map(),
  foreignGroupNames: new Map(),
  projects: new Map([
    ["archway/shared", { id: "p1", name: "shared", domainId: "d1", description: "", tags: [], owned: true }],
  ]),
  roles: new Map([
    ["member", "r-member"],
    ["reader", "r-reader"],
  ]),
  assignments: [],
  groups: new Map(),
  groupAssignments: [],
  keypairs: new Map(),
  ...over,
});

describe("federation group names", () => {
  it("readable when they fit, hashed otherwise, never with ';'", () => {
    expect(federationGroupName({ project: "shared", projectDomain: "archway", role: "member" }, "archway")).toBe(
      "shared:member",
    );
    expect(federationGroupName({ project: "ops", projectDomain: "Default", role: "reader" }, "archway")).toBe(
      "Default/ops:reader",
    );
    const long = federationGroupName({ project: "p".repeat(64), projectDomain: "archway", role: "member" }, "archway");
    expect(long).toMatch(/^archway-[0-9a-f]{32}$/);
    expect(federationGroupName({ project: "a;b", projectDomain: "archway", role: "x" }, "archway")).toMatch(
      /^archway-/,
    );
  });
});

describe("federated plan", () => {
  const desired = {
    cloudId: "fed-1",
    users: [],
    projects: [],
    assignments: [assignment("shared", "member"), assignment("shared", "member", "demo:bob")],
    keys: [],
    memberships: [],
  };

  it("one group per project role; the mapping checks iss and aud and whitelists Archway's groups", () => {
    const { base, federation } = federationDesired(cloud, desired, ISSUER);
    expect(base.users).toEqual([]);
    expect([...federation.groups.keys()]).toEqual(["shared:member"]);
    expect(JSON.stringify(federation.mapping.rules)).toContain('"whitelist":["shared:member"]');
    expect(JSON.stringify(federation.mapping.rules)).toContain(`"any_one_of":["${ISSUER}"]`);
    expect(JSON.stringify(federation.mapping.rules)).toContain(`"any_one_of":["${cloud.authUrl}"]`);
  });

  it("from nothing: group, grant, identity provider, mapping, protocol; converged: nothing", () => {
    const { federation } = federationDesired(cloud, desired, ISSUER);
    const fresh = planFederation(federation, observed(), { groupAssignments: [] }, new Set(["archway/shared"]), OWN);
    expect(fresh.operations.map((o) => o.kind)).toEqual([
      "createGroup",
      "grantGroup",
      "ensureIdentityProvider",
      "ensureMapping",
      "ensureProtocol",
    ]);
    const done = planFederation(
      federation,
      observed({ groups: new Map([["shared:member", { id: "g1", members: new Set() }]]) }),
      {
        idp: { id: "archway", enabled: true, description: idpMark("t"), remote_ids: [ISSUER] },
        mappingRules: JSON.parse(JSON.stringify(federation.mapping.rules)) as unknown[],
        protocolMapping: "archway-mapping",
        groupAssignments: [{ groupId: "g1", projectId: "p1", roleId: "r-member" }],
      },
      new Set(["archway/shared"]),
      OWN,
    );
    expect(done).toEqual({ operations: [], problems: [] });
  });

  it("an identity provider without Archway's mark is reported and left alone", () => {
    const { federation } = federationDesired(cloud, desired, ISSUER);
    const plan = planFederation(
      federation,
      observed(),
      {
        idp: { id: "archway", enabled: true, description: "by hand", remote_ids: ["https://other"] },
        groupAssignments: [],
      },
      new Set(["archway/shared"]),
      OWN,
    );
    expect(plan.problems[0]).toMatch(/without Archway's mark/);
    expect(plan.operations.map((o) => o.kind)).not.toContain("ensureIdentityProvider");
    expect(plan.operations.map((o) => o.kind)).not.toContain("ensureMapping");
  });

  it("a grant no policy asks for any more is revoked from the group", () => {
    const { federation } = federationDesired(cloud, { ...desired, assignments: [] }, ISSUER);
    const plan = planFederation(
      federation,
      observed({ groups: new Map([["shared:member", { id: "g1", members: new Set() }]]) }),
      { groupAssignments: [{ groupId: "g1", projectId: "p1", roleId: "r-member" }] },
      new Set(),
      OWN,
    );
    expect(plan.operations).toContainEqual(expect.objectContaining({ kind: "revokeGroup", group: "shared:member" }));
  });
});

describe("archway federation snippet", () => {
  const dir = mkdtempSync(join(tmpdir(), "archway-fed-snippet-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "archway.yaml");
  writeFileSync(
    file,
    `publicUrl: ${ISSUER}\ndeploymentId: t\npoliciesDir: .\nclouds:\n` +
      "  - { id: fed-1, authUrl: 'http://127.0.0.1:15011/v3', mode: federated, admin: { username: a, password: b } }\n" +
      "  - { id: c-1, authUrl: 'http://127.0.0.1:15001/v3', admin: { username: a, password: b } }\n" +
      "idp:\n  clients:\n    - { id: cli, secret: s, grants: [password], clouds: [fed-1] }\n",
  );

  it("prints the mod_auth_openidc and keystone.conf lines for a federated cloud", async () => {
    const io = captureIO();
    expect(await runCli(["federation", "snippet", "fed-1", "--config", file], io)).toBe(0);
    const out = io.stdout();
    expect(out).toContain(`OIDCOAuthVerifyJwksUri ${ISSUER}/.well-known/jwks.json`);
    expect(out).toContain("remote_id_attribute = OIDC_CLAIM_iss");
    expect(out).toContain('<Location ~ "^/v3/OS-FEDERATION/identity_providers/archway/protocols/openid/auth$">');
    expect(out).toContain("OS_CLIENT_ID=cli");
  });

  it("config check: a client's clouds must exist and be federated", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "policiesDir: .\nclouds:\n  - { id: c-1, authUrl: 'http://127.0.0.1:15001/v3', admin: { username: a, password: b } }\n" +
        "idp:\n  clients:\n    - { id: cli, secret: s, grants: [password], clouds: [c-1, nope] }\n",
    );
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", bad], io)).toBe(2);
    expect(io.stderr()).toMatch(/idp\.clients\[0\]\.clouds\[0\]: cloud 'c-1' is not in federated mode/);
    expect(io.stderr()).toMatch(/idp\.clients\[0\]\.clouds\[1\]: unknown cloud 'nope'/);
  });

  it("refuses a brokered cloud with a clear line", async () => {
    const io = captureIO();
    expect(await runCli(["federation", "snippet", "c-1", "--config", file], io)).toBe(2);
    expect(io.stderr()).toMatch(/brokered mode/);
  });
});
