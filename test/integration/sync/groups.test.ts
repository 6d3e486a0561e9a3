import { randomBytes } from "node:crypto";
import { Attribute, Change } from "ldapts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LdapSourceSchema } from "../../../src/config/index.js";
import { type Identity, LdapSource } from "../../../src/identity/index.js";
import { issueToken, Limiter, Transport } from "../../../src/openstack/index.js";
import { compilePolicies, desiredState } from "../../../src/policy/index.js";
import { emptyDesired, shadowPassword } from "../../../src/sync/index.js";
import { ldapAdmin } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { createHarness } from "./harness.js";

// "A project per LDAP group" as one policy, held by one Keystone group per team (assignTo: group), against the real
// slapd and the three real Keystones. People and groups live in an organizational unit of this run.
const env = loadEndpoints();
const h = createHarness();
const run = randomBytes(4).toString("hex");
const ou = `ou=groups-it-${run},${env.ldap.baseDn}`;
const ldap = await ldapAdmin(env);
const source = new LdapSource(
  LdapSourceSchema.parse({
    id: "corp",
    type: "ldap",
    preset: "openldap",
    urls: [env.ldap.url],
    baseDn: env.ldap.baseDn,
    userBaseDn: ou,
    groupBaseDn: ou,
    bindDn: env.ldap.bindDn,
    bindPassword: env.ldap.bindPassword,
    timeoutMs: 5_000,
  }),
);

const POLICY = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: teams }
spec:
  subjects: { sources: [corp] }
  forEach: { group: "team-*" }
  grants:
    - project: "{{ group }}"
      description: "the {{ group }} team"
      roles: [member]
      assignTo: group
`;
const { policies, problems } = compilePolicies([{ file: "teams.yaml", text: POLICY }], {
  clouds: h.clouds,
  sources: ["corp"],
  roles: ["member", "reader", "admin"],
});

const personDn = (uid: string) => `uid=${uid},${ou}`;
const groupDn = (cn: string) => `cn=${cn},${ou}`;

beforeAll(async () => {
  await ldap.add(ou, { objectClass: ["organizationalUnit"], ou: `groups-it-${run}` });
  for (const uid of ["alice", "bob", "carol"])
    await ldap.add(personDn(uid), {
      objectClass: ["inetOrgPerson"],
      uid,
      cn: uid,
      sn: uid,
      mail: `${uid}@example.org`,
      userPassword: `pw-${uid}`,
    });
  const group = (cn: string, members: string[]) =>
    ldap.add(groupDn(cn), { objectClass: ["groupOfNames"], cn, member: members.map(personDn) });
  await group("team-red", ["alice", "bob"]);
  await group("team-blue", ["carol", "alice"]);
  await group("staff", ["alice", "bob", "carol"]); // no project: the glob does not match it
});

afterAll(async () => {
  for (const dn of [
    groupDn("team-red"),
    groupDn("team-blue"),
    groupDn("staff"),
    ...["alice", "bob", "carol"].map(personDn),
  ])
    await ldap.del(dn).catch(() => {});
  await ldap.del(ou).catch(() => {});
  await ldap.unbind();
  await source.close();
  await h.cleanup();
});

async function people(): Promise<Identity[]> {
  const out: Identity[] = [];
  for await (const identity of source.list()) out.push(identity);
  return out;
}

/** A full sync of every cloud from the directory as it is now. */
async function syncAll() {
  const states = desiredState(await people(), policies);
  const engine = h.engine();
  const results = await Promise.all(
    h.clouds.map((c) => engine.run(c.id, states.get(c.id) ?? emptyDesired(c.id), { runId: `groups-${Date.now()}` })),
  );
  return new Map(results.map((r) => [r.cloudId, r]));
}

/** Team groups of the test domain in a cloud: name -> sorted member names. */
async function teams(cloudIndex: number) {
  const ks = h.clients(h.clouds[cloudIndex]!).keystone;
  const [domain] = await ks.listDomains({ name: h.domain });
  const out = new Map<string, string[]>();
  for (const g of await ks.listGroups({ domainId: domain!.id }))
    out.set(g.name, (await ks.listGroupUsers(g.id)).map((u) => u.name).sort());
  return out;
}

function login(cloudIndex: number, username: string, identityId: string, project: string) {
  const cloud = h.clouds[cloudIndex]!;
  return issueToken(
    new Transport({ cloudId: cloud.id, service: "keystone", limiter: new Limiter(1), timeoutMs: 10_000 }),
    cloud.authUrl,
    {
      method: "password",
      username,
      password: shadowPassword("test-shadow-secret", cloud.id, identityId, 1),
      userDomainName: h.domain,
      projectName: project,
      projectDomainName: h.domain,
    },
  );
}

describe("a project per LDAP group, held by Keystone groups (forEach + assignTo: group)", () => {
  it("compiles", () => {
    expect(problems).toEqual([]);
  });

  it("converges in one run: projects per team, groups, members, group roles; no per-person role", async () => {
    const first = await syncAll();
    for (const r of first.values()) {
      expect(r.apply?.failed).toEqual([]);
      expect(r.outcome).toBe("converged");
      const kinds = new Set(r.plan?.operations.map((o) => o.kind));
      expect([...kinds].sort()).toEqual([
        "addMember",
        "createGroup",
        "createProject",
        "createUser",
        "ensureDomain",
        "grantGroup",
      ]);
    }
    for (const i of [0, 1, 2]) {
      expect(await teams(i)).toEqual(
        new Map([
          ["team-blue", ["alice", "carol"]],
          ["team-red", ["alice", "bob"]],
        ]),
      );
    }
    const ks = h.clients(h.clouds[1]!).keystone;
    const [domain] = await ks.listDomains({ name: h.domain });
    const projects = await ks.listProjects({ domainId: domain!.id });
    expect(projects.map((p) => p.name).sort()).toEqual(["team-blue", "team-red"]);
    const groups = await ks.listGroups({ domainId: domain!.id });
    const roleNames = new Map((await ks.listRoles()).map((r) => [r.id, r.name]));
    const projectNames = new Map(projects.map((p) => [p.id, p.name]));
    const held = [];
    for (const g of groups)
      for (const a of await ks.listRoleAssignments({ groupId: g.id }))
        held.push(`${g.name}:${roleNames.get(a.role.id)}@${projectNames.get(a.scope?.project?.id ?? "")}`);
    expect(held.sort()).toEqual(["team-blue:member@team-blue", "team-red:member@team-red"]);
    for (const u of await ks.listUsers({ domainId: domain!.id }))
      expect(await ks.listRoleAssignments({ userId: u.id })).toEqual([]);
  });

  it("a second run writes nothing", async () => {
    const before = h.requests.length;
    const second = await syncAll();
    for (const r of second.values()) expect(r.plan?.operations).toEqual([]);
    expect(h.writes(before)).toEqual([]);
  });

  it("a member's token is scoped to the team project through the group's role", async () => {
    const alice = (await people()).find((p) => p.username === "alice")!;
    const token = await login(1, "alice", alice.id, "team-red");
    expect(token.roles).toContain("member");
    // carol is not in team-red: her user holds no role there.
    const carol = (await people()).find((p) => p.username === "carol")!;
    await expect(login(1, "carol", carol.id, "team-red")).rejects.toMatchObject({ upstreamStatus: 401 });
  });

  it("removing a person from an LDAP group removes the membership at the next run", async () => {
    await ldap.modify(
      groupDn("team-red"),
      new Change({ operation: "delete", modification: new Attribute({ type: "member", values: [personDn("bob")] }) }),
    );
    const results = await syncAll();
    for (const r of results.values()) {
      expect(r.apply?.failed).toEqual([]);
      // bob keeps his user (disabled later if no policy gives him anything: the grace period runs first).
      expect(r.plan?.operations.filter((o) => o.kind !== "disableUser").map((o) => o.kind)).toEqual(["removeMember"]);
    }
    for (const i of [0, 1, 2]) expect((await teams(i)).get("team-red")).toEqual(["alice"]);
    const bob = (await people()).find((p) => p.username === "bob")!;
    await expect(login(1, "bob", bob.id, "team-red")).rejects.toMatchObject({ upstreamStatus: 401 });
  });

  it("a team gone from the directory: its group loses its role and is deleted in every cloud; a hand-made one stays", async () => {
    // A group of the same naming made by hand in Archway's domain (no mark), holding a role on a team project.
    for (const cloud of h.clouds) {
      const ks = h.clients(cloud).keystone;
      const [domain] = await ks.listDomains({ name: h.domain });
      const made = await ks.createGroup({ name: "team-green", domain_id: domain!.id });
      const [red] = await ks.listProjects({ domainId: domain!.id, name: "team-red" });
      const [role] = await ks.listRoles({ name: "reader" });
      await ks.grantProjectRole({ groupId: made.id }, red!.id, role!.id);
    }
    await ldap.del(groupDn("team-blue"));
    const results = await syncAll();
    for (const r of results.values()) {
      expect(r.apply?.failed).toEqual([]);
      const ops = r.plan?.operations.filter((o) => o.kind !== "disableUser") ?? [];
      expect(ops.map((o) => o.kind).sort()).toEqual(["deleteGroup", "removeMember", "removeMember", "revokeGroup"]);
      expect(r.plan?.counts.delete).toBe(1);
    }
    for (const i of [0, 1, 2]) expect([...(await teams(i)).keys()].sort()).toEqual(["team-green", "team-red"]);
    await expectHandMadeUntouched();
  });

  it("a team the policy no longer asks for: its group is deleted in every cloud; the hand-made one still stays", async () => {
    const narrowed = compilePolicies([{ file: "teams.yaml", text: POLICY.replace('"team-*"', '"team-none-*"') }], {
      clouds: h.clouds,
      sources: ["corp"],
      roles: ["member", "reader", "admin"],
    });
    expect(narrowed.problems).toEqual([]);
    const states = desiredState(await people(), narrowed.policies);
    const engine = h.engine();
    for (const c of h.clouds) {
      const r = await engine.run(c.id, states.get(c.id) ?? emptyDesired(c.id), {
        runId: `groups-narrow-${Date.now()}`,
      });
      expect(r.apply?.failed).toEqual([]);
      const kinds = (r.plan?.operations ?? []).map((o) => o.kind).filter((k) => k !== "disableUser");
      expect(kinds.sort()).toEqual(["deleteGroup", "removeMember", "revokeGroup"]);
    }
    for (const i of [0, 1, 2]) expect([...(await teams(i)).keys()]).toEqual(["team-green"]);
    await expectHandMadeUntouched();
  });
});

/** The hand-made team-green of every cloud: still there, no members added, its role on team-red kept. */
async function expectHandMadeUntouched() {
  for (const cloud of h.clouds) {
    const ks = h.clients(cloud).keystone;
    const [domain] = await ks.listDomains({ name: h.domain });
    const [green] = await ks.listGroups({ domainId: domain!.id, name: "team-green" });
    expect(green).toBeDefined();
    expect(await ks.listGroupUsers(green!.id)).toEqual([]);
    expect(await ks.listRoleAssignments({ groupId: green!.id })).toHaveLength(1);
  }
}
