import { afterAll, describe, expect, it } from "vitest";
import { type CloudClients, createCloudClients, type RequestEvent } from "../../../src/openstack/index.js";
import { testClouds, uniqueName } from "./clouds.js";

const TEST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvNAk1sYEh2bJ8o0w2Pkf2W9TdVRWdnS16T5ZAiWDMO alice@laptop";

describe("OpenStack clients against the real Keystone and nova-api", () => {
  const events: RequestEvent[] = [];
  const [cloud] = testClouds();
  const clients: CloudClients = createCloudClients(cloud!, { onRequest: (e) => events.push(e) });
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    await clients.close();
  });

  it("manages a domain, a tagged project, a user with extras and options, a group and a role assignment", async () => {
    const ks = clients.keystone;
    const domain = await ks.createDomain({ name: uniqueName() });
    cleanup.push(() => ks.deleteDomain(domain.id));
    const tag = `archway:${uniqueName("t")}`;
    const project = await ks.createProject({ name: "p1", domain_id: domain.id, tags: [tag] });
    await ks.createProject({ name: "p2", domain_id: domain.id });
    expect((await ks.listProjects({ tags: [tag] })).map((p) => p.id)).toEqual([project.id]);

    const user = await ks.createUser({
      name: "u1",
      domain_id: domain.id,
      password: "x-secret-1",
      options: { ignore_password_expiry: true, ignore_lockout_failure_attempts: true },
      archway_managed: true,
      archway_identity: "ldap:1",
    });
    const [listed] = await ks.listUsers({ domainId: domain.id });
    expect(listed).toMatchObject({ id: user.id, archway_managed: true, archway_identity: "ldap:1" });
    expect(listed?.options.ignore_password_expiry).toBe(true);

    const group = await ks.createGroup({ name: "g1", domain_id: domain.id, archway_managed: true });
    await ks.addUserToGroup(group.id, user.id);
    expect((await ks.listGroupUsers(group.id)).map((u) => u.id)).toEqual([user.id]);
    await ks.removeUserFromGroup(group.id, user.id);

    const member = (await ks.listRoles({ name: "member" }))[0]!;
    await ks.grantProjectRole({ userId: user.id }, project.id, member.id);
    await ks.grantProjectRole({ userId: user.id }, project.id, member.id); // PUT twice is harmless
    const assignments = await ks.listRoleAssignments({ projectId: project.id });
    expect(assignments).toEqual([expect.objectContaining({ user: expect.objectContaining({ id: user.id }) })]);
    await ks.revokeProjectRole({ userId: user.id }, project.id, member.id);
    expect(await ks.listRoleAssignments({ projectId: project.id })).toEqual([]);
    await expect(ks.getUser("does-not-exist")).rejects.toMatchObject({
      code: "keystone_not_found",
      cloudId: "cloud-1",
      operation: "keystone.users.get",
      upstreamStatus: 404,
    });
  });

  it("imports, lists and deletes another user's keypair in Nova (microversion 2.10, user_id)", async () => {
    const ks = clients.keystone;
    const domain = await ks.createDomain({ name: uniqueName() });
    cleanup.push(() => ks.deleteDomain(domain.id));
    const user = await ks.createUser({ name: "k1", domain_id: domain.id });
    cleanup.push(() => ks.deleteUser(user.id));
    const nova = clients.nova();
    await nova.importKeypair(user.id, "alice laptop", TEST_KEY);
    expect((await nova.listKeypairs(user.id)).map((k) => k.name)).toEqual(["alice laptop"]);
    await nova.deleteKeypair(user.id, "alice laptop");
    expect(await nova.listKeypairs(user.id)).toEqual([]);
  });

  it("manages OS-FEDERATION identity providers, mappings and protocols", async () => {
    const fed = clients.federation();
    const id = uniqueName("idp");
    const rules = [{ local: [{ user: { name: "{0}" } }], remote: [{ type: "OIDC_CLAIM_sub" }] }];
    await fed.createMapping(id, rules);
    cleanup.push(() => fed.deleteMapping(id));
    await fed.createIdentityProvider(id, { remote_ids: [`https://${id}.example`], enabled: true });
    cleanup.push(() => fed.deleteIdentityProvider(id));
    await fed.createProtocol(id, "openid", id);
    expect((await fed.listProtocols(id)).map((p) => p.mapping_id)).toEqual([id]);
    expect((await fed.getIdentityProvider(id)).remote_ids).toEqual([`https://${id}.example`]);
    await fed.deleteProtocol(id, "openid");
  });

  it("logs in once for many concurrent calls", () => {
    expect(events.filter((e) => e.operation === "keystone.auth.issue" && e.status === 201)).toHaveLength(1);
  });
});
