import type { CloudClients, Keypair } from "../openstack/index.js";
import { mapLimit } from "../openstack/index.js";
import type { DesiredCloudState } from "../policy/index.js";
import {
  extraMark,
  type Mark,
  type OwnedUser,
  type Ownership,
  ownedUser,
  PROJECT_TAG,
  parsePublicKey,
  projectMark,
  whose,
} from "./ownership.js";

/** A project as sync sees it; `owned` when it carries this deployment's marks (see {@link projectMark}). */
export interface ObservedProject {
  id: string;
  name: string;
  domainId: string;
  description: string;
  tags: string[];
  owned: boolean;
  /** Whose it is when not owned, for the plan's problems (`marked by Archway deployment 'b'`). */
  whose?: string;
  /** Owned through `adoptUnmarked`: carries only the old mark, this deployment's is still to be written. */
  remark?: boolean;
}

/** A role assignment of an owned user on a project. */
export interface ObservedAssignment {
  userId: string;
  projectId: string;
  roleId: string;
}

/** What exists in one cloud, restricted to what Archway owns or needs to reference. */
export interface ObservedCloud {
  cloudId: string;
  /** Archway's domain id, null when it does not exist yet. */
  domainId: string | null;
  /** Every domain, name -> id (projects may live in other domains). */
  domains: Map<string, string>;
  /** Owned shadow users by identity id. */
  users: Map<string, OwnedUser>;
  /**
   * Users in Archway's domain this deployment does not own, name -> whose they are (never touched; a name clash
   * is a problem).
   */
  foreignUserNames: Map<string, string>;
  /** Projects Archway owns or the desired state names, by `<domain name>/<name>`. */
  projects: Map<string, ObservedProject>;
  roles: Map<string, string>;
  assignments: ObservedAssignment[];
  /** Owned groups by name, with member user ids. */
  groups: Map<string, { id: string; members: Set<string>; remark?: boolean }>;
  /** Groups in Archway's domain this deployment does not own, name -> whose they are (a name clash is a problem). */
  foreignGroupNames: Map<string, string>;
  /** Role assignments of owned groups on projects (federated clouds grant through groups). */
  groupAssignments: { groupId: string; projectId: string; roleId: string }[];
  /** Keypairs read from Nova, by user id: only for users whose recorded keys differ from the desired ones. */
  keypairs: Map<string, Keypair[]>;
}

/** What to read: everything (full sync), or only what concerns a few people (just-in-time sync). */
export interface ObserveOptions {
  /** Identity ids to restrict to; absent means the whole cloud. */
  people?: ReadonlySet<string>;
  /** Read every owned user's keypairs from Nova, not only those whose record differs (catches hand edits). */
  deepKeys?: boolean;
}

/** `<domain name>/<project name>`: how desired and observed projects are matched. */
export function projectKey(domain: string, name: string): string {
  return `${domain}/${name}`;
}

/**
 * Reads one cloud with few list calls, whatever the number of people: domains, users of Archway's domain,
 * projects by tag (server-side filter), roles, role assignments (one call, filtered to owned users), owned
 * groups and their members; Nova keypairs only for users whose desired keys differ from what their user record
 * says Archway put there. A person-scoped read (`people`) looks users and assignments up per person instead.
 */
export async function observeCloud(
  clients: CloudClients,
  desired: DesiredCloudState,
  ownership: Ownership,
  opts: ObserveOptions = {},
): Promise<ObservedCloud> {
  const ks = clients.keystone;
  const cloud = clients.cloud;
  const [domainList, tagged, roleList] = await Promise.all([
    ks.listDomains(),
    ks.listProjects({ tags: [PROJECT_TAG] }),
    ks.listRoles(),
  ]);
  const domains = new Map(domainList.map((d) => [d.name, d.id]));
  const domainNames = new Map(domainList.map((d) => [d.id, d.name]));
  const domainId = domains.get(cloud.domain) ?? null;
  const obs: ObservedCloud = {
    cloudId: cloud.id,
    domainId,
    domains,
    users: new Map(),
    foreignUserNames: new Map(),
    projects: new Map(),
    roles: new Map(roleList.map((r) => [r.name, r.id])),
    assignments: [],
    groups: new Map(),
    foreignGroupNames: new Map(),
    groupAssignments: [],
    keypairs: new Map(),
  };
  const observeProject = (p: (typeof tagged)[number]) => {
    const domainName = domainNames.get(p.domain_id);
    if (!domainName) return;
    const mark = projectMark(p, ownership);
    obs.projects.set(projectKey(domainName, p.name), {
      id: p.id,
      name: p.name,
      domainId: p.domain_id,
      description: p.description ?? "",
      tags: p.tags,
      owned: mark.owner === "self",
      ...(mark.owner === "self" ? (mark.remark ? { remark: true } : {}) : { whose: whose(mark) }),
    });
  };
  for (const p of tagged) observeProject(p);
  const missing = desired.projects.filter(
    (p) => !obs.projects.has(projectKey(p.domain, p.name)) && domains.has(p.domain),
  );
  await mapLimit(missing, clients.limiter.max, async (p) => {
    for (const found of await ks.listProjects({ domainId: domains.get(p.domain), name: p.name })) observeProject(found);
  });
  if (!domainId) return obs;

  const users = opts.people
    ? (
        await mapLimit(
          desired.users.filter((u) => opts.people?.has(u.identityId)),
          clients.limiter.max,
          (u) => ks.listUsers({ domainId, name: u.username }),
        )
      ).flat()
    : await ks.listUsers({ domainId });
  for (const user of users) {
    const owned = ownedUser(user, domainId, ownership);
    if (owned && (!opts.people || opts.people.has(owned.identityId))) obs.users.set(owned.identityId, owned);
    else if (!owned) obs.foreignUserNames.set(user.name, whose(extraMark(user, domainId, ownership)));
  }
  const ownedIds = new Set([...obs.users.values()].map((u) => u.id));
  const assignments = opts.people
    ? (await mapLimit([...ownedIds], clients.limiter.max, (userId) => ks.listRoleAssignments({ userId }))).flat()
    : await ks.listRoleAssignments();
  for (const a of assignments) {
    const userId = a.user?.id;
    const projectId = a.scope?.project?.id;
    if (userId && projectId && ownedIds.has(userId)) obs.assignments.push({ userId, projectId, roleId: a.role.id });
  }
  await observeGroups(clients, obs, domainId, desired, ownership);
  if (!opts.people) {
    const ownedGroups = new Set([...obs.groups.values()].map((g) => g.id));
    for (const a of assignments) {
      const groupId = a.group?.id;
      const projectId = a.scope?.project?.id;
      if (groupId && projectId && ownedGroups.has(groupId))
        obs.groupAssignments.push({ groupId, projectId, roleId: a.role.id });
    }
  }
  await observeKeypairs(clients, obs, desired, opts);
  return obs;
}

async function observeGroups(
  clients: CloudClients,
  obs: ObservedCloud,
  domainId: string,
  desired: DesiredCloudState,
  ownership: Ownership,
) {
  // Only worth a call when policies name groups, or when Archway may own groups left from earlier policies.
  const groups = await clients.keystone.listGroups({ domainId });
  const owned: { id: string; name: string; mark: Mark }[] = [];
  for (const g of groups) {
    const mark = extraMark(g, domainId, ownership);
    if (mark.owner === "self") owned.push({ id: g.id, name: g.name, mark });
    else obs.foreignGroupNames.set(g.name, whose(mark));
  }
  if (owned.length === 0 && desired.memberships.length === 0) return;
  await mapLimit(owned, clients.limiter.max, async (g) => {
    const members = await clients.keystone.listGroupUsers(g.id);
    const remark = g.mark.owner === "self" && g.mark.remark;
    obs.groups.set(g.name, { id: g.id, members: new Set(members.map((m) => m.id)), ...(remark ? { remark } : {}) });
  });
}

async function observeKeypairs(
  clients: CloudClients,
  obs: ObservedCloud,
  desired: DesiredCloudState,
  opts: ObserveOptions,
) {
  const wanted = new Map<string, Set<string>>();
  for (const k of desired.keys) {
    const parsed = parsePublicKey(k.publicKey);
    if (!parsed) continue;
    let set = wanted.get(k.identityId);
    if (!set) {
      set = new Set();
      wanted.set(k.identityId, set);
    }
    set.add(parsed.fingerprint);
  }
  const desiredPeople = new Set(desired.users.map((u) => u.identityId));
  // People who lost all access keep their keys until their user is deleted (from the record, without a read).
  const toRead = [...obs.users.values()].filter((u) => {
    if (!desiredPeople.has(u.identityId)) return false;
    if (opts.deepKeys) return true;
    const recorded = new Set(Object.values(u.keys));
    const want = wanted.get(u.identityId) ?? new Set<string>();
    return recorded.size !== want.size || [...want].some((fp) => !recorded.has(fp));
  });
  if (toRead.length === 0) return;
  const nova = clients.nova();
  await mapLimit(toRead, clients.limiter.max, async (u) => {
    obs.keypairs.set(u.id, await nova.listKeypairs(u.id));
  });
}
