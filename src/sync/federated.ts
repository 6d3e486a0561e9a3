import { type Cloud, federationAudience } from "../config/index.js";
import type { CloudClients, IdentityProvider } from "../openstack/index.js";
import { type DesiredCloudState, federationGroupName, sortedUnion } from "../policy/index.js";
import { type ObservedCloud, projectKey } from "./observe.js";
import type { Operation } from "./operations.js";
import { classifyMark, type Mark, type Ownership, whose } from "./ownership.js";

/**
 * The description that marks an identity provider as Archway's (Keystone IdPs have no extra attributes); alone,
 * it is the mark from before deployment ids. Its mapping and protocol follow it: never changed when it is not ours.
 */
export const IDP_MARK = "Managed by Archway: the OpenID Provider this cloud trusts for federated logins";

/** The description of an identity provider this deployment manages. */
export function idpMark(deploymentId: string): string {
  return `${IDP_MARK} (deployment ${deploymentId})`;
}

/** Whose an identity provider is, from its description. */
export function idpOwner(description: string | null | undefined, ownership: Ownership): Mark {
  const d = description ?? "";
  const dep = d.startsWith(`${IDP_MARK} (deployment `) && d.endsWith(")") ? d.slice(IDP_MARK.length + 13, -1) : "";
  return classifyMark(d === IDP_MARK || dep !== "", dep ? [dep] : [], ownership);
}

/** What a federated cloud should hold besides projects: groups with their grants, and the federation objects. */
export interface FederationDesired {
  /** Group name -> the project roles it carries. */
  groups: Map<string, { project: string; role: string; policies: string[] }[]>;
  idp: { id: string; remoteIds: string[] };
  mapping: { id: string; rules: unknown[] };
  protocol: { id: string; mappingId: string };
}

/** What exists of the federation objects and of the owned groups' grants. */
export interface FederationObserved {
  idp?: IdentityProvider;
  mappingRules?: unknown[];
  /** The mapping the protocol points at, when the protocol exists. */
  protocolMapping?: string;
  /** Role assignments of owned groups on projects. */
  groupAssignments: { groupId: string; projectId: string; roleId: string }[];
}

/**
 * Splits a federated cloud's desired state: Keystone makes the users itself at login, so there are no shadow users,
 * memberships or keys; there are projects (as in brokered mode), one group per project role, and the identity
 * provider, mapping and protocol that let the cloud trust Archway's tokens.
 */
export function federationDesired(
  cloud: Cloud,
  desired: DesiredCloudState,
  issuer: string,
): { base: DesiredCloudState; federation: FederationDesired } {
  const groups = new Map<string, { project: string; role: string; policies: string[] }[]>();
  for (const a of desired.assignments) {
    const name = federationGroupName(a, cloud.domain);
    const project = projectKey(a.projectDomain, a.project);
    const grants = groups.get(name) ?? [];
    const same = grants.find((g) => g.project === project && g.role === a.role);
    if (same) same.policies = sortedUnion(same.policies, a.policies);
    else grants.push({ project, role: a.role, policies: [...a.policies] });
    groups.set(name, grants);
  }
  const idpId = cloud.federation?.identityProviderId ?? "archway";
  const protocolId = cloud.federation?.protocol ?? "openid";
  const mappingId = `${idpId}-mapping`;
  return {
    base: {
      cloudId: desired.cloudId,
      users: [],
      projects: desired.projects,
      assignments: [],
      keys: [],
      memberships: [],
    },
    federation: {
      groups,
      idp: { id: idpId, remoteIds: [issuer] },
      mapping: { id: mappingId, rules: mappingRules(cloud, issuer, [...groups.keys()].sort()) },
      protocol: { id: protocolId, mappingId },
    },
  };
}

/**
 * One rule: the token must come from Archway (`iss`) for this cloud (`aud`); the user is ephemeral (Keystone
 * shadows it in Archway's domain, keyed by `sub`), and only Archway's own groups are taken from the claim
 * (whitelist), so no token can name another group of the cloud.
 */
function mappingRules(cloud: Cloud, issuer: string, groups: string[]): unknown[] {
  return [
    {
      local: [
        { user: { name: "{0}", id: "{1}", type: "ephemeral" } },
        { groups: "{2}", domain: { name: cloud.domain } },
      ],
      remote: [
        { type: "OIDC_CLAIM_preferred_username" },
        { type: "OIDC_CLAIM_sub" },
        { type: "OIDC_CLAIM_groups", whitelist: groups },
        { type: "OIDC_CLAIM_iss", any_one_of: [issuer] },
        { type: "OIDC_CLAIM_aud", any_one_of: [federationAudience(cloud)] },
      ],
    },
  ];
}

/** Reads the identity provider, its mapping and protocol (three calls). Owned groups' grants come from observe. */
export async function observeFederation(
  clients: CloudClients,
  desired: FederationDesired,
): Promise<Omit<FederationObserved, "groupAssignments">> {
  const fed = clients.federation();
  const idp = (await fed.listIdentityProviders()).find((i) => i.id === desired.idp.id);
  const mapping = (await fed.listMappings()).find((m) => m.id === desired.mapping.id);
  const protocol = idp ? (await fed.listProtocols(idp.id)).find((p) => p.id === desired.protocol.id) : undefined;
  return { idp, mappingRules: mapping?.rules, protocolMapping: protocol?.mapping_id };
}

/**
 * Plans groups, their grants and the federation objects. An identity provider of that id without Archway's mark is
 * someone else's: reported, never changed (and then neither are its mapping and protocol).
 */
export function planFederation(
  desired: FederationDesired,
  observed: ObservedCloud,
  fed: FederationObserved,
  projectsReady: ReadonlySet<string>,
  ownership: Ownership,
): { operations: Operation[]; problems: string[] } {
  const ops: Operation[] = [];
  const problems: string[] = [];
  const keep = new Set<string>();
  const have = new Set(fed.groupAssignments.map((a) => `${a.groupId}|${a.projectId}|${a.roleId}`));
  const unknownRoles = new Set<string>();
  for (const [name, grants] of desired.groups) {
    const group = observed.groups.get(name);
    const foreign = observed.foreignGroupNames.get(name);
    if (!group && foreign !== undefined) {
      problems.push(`group ${name} exists ${foreign}: not adopted, its grants not made`);
      continue;
    }
    if (!group) ops.push({ kind: "createGroup", name, policies: [...new Set(grants.flatMap((g) => g.policies))] });
    for (const g of grants) {
      const roleId = observed.roles.get(g.role);
      if (!roleId) {
        unknownRoles.add(g.role);
        continue;
      }
      if (!projectsReady.has(g.project)) continue;
      const projectId = observed.projects.get(g.project)?.id;
      if (group && projectId) {
        const id = `${group.id}|${projectId}|${roleId}`;
        keep.add(id);
        if (have.has(id)) continue;
      }
      ops.push({ kind: "grantGroup", group: name, project: g.project, role: g.role, policies: g.policies });
    }
  }
  for (const role of unknownRoles) problems.push(`role ${role} does not exist in this cloud`);
  const groupNames = new Map([...observed.groups].map(([name, g]) => [g.id, name]));
  const projectNames = new Map([...observed.projects].map(([key, p]) => [p.id, key]));
  const roleNames = new Map([...observed.roles].map(([name, id]) => [id, name]));
  for (const a of fed.groupAssignments) {
    if (keep.has(`${a.groupId}|${a.projectId}|${a.roleId}`)) continue;
    ops.push({
      kind: "revokeGroup",
      group: groupNames.get(a.groupId) ?? a.groupId,
      groupId: a.groupId,
      projectId: a.projectId,
      project: projectNames.get(a.projectId) ?? a.projectId,
      roleId: a.roleId,
      role: roleNames.get(a.roleId) ?? a.roleId,
      policies: [],
    });
  }

  const mark = fed.idp ? idpOwner(fed.idp.description, ownership) : undefined;
  if (mark && mark.owner !== "self") {
    problems.push(
      `identity provider ${desired.idp.id} exists ${whose(mark)}: not changed; set federation.identityProviderId to another id`,
    );
    return { operations: ops, problems };
  }
  const remoteIdsDiffer = fed.idp && [...fed.idp.remote_ids].sort().join(" ") !== desired.idp.remoteIds.join(" ");
  const remark = mark?.owner === "self" && mark.remark;
  if (!fed.idp || remoteIdsDiffer || !fed.idp.enabled || remark) {
    ops.push({
      kind: "ensureIdentityProvider",
      id: desired.idp.id,
      remoteIds: desired.idp.remoteIds,
      create: !fed.idp,
      policies: [],
    });
  }
  if (!fed.mappingRules || canonical(fed.mappingRules) !== canonical(desired.mapping.rules)) {
    ops.push({
      kind: "ensureMapping",
      id: desired.mapping.id,
      rules: desired.mapping.rules,
      create: !fed.mappingRules,
      policies: [],
    });
  }
  if (fed.protocolMapping !== desired.protocol.mappingId) {
    ops.push({
      kind: "ensureProtocol",
      idp: desired.idp.id,
      id: desired.protocol.id,
      mappingId: desired.protocol.mappingId,
      create: fed.protocolMapping === undefined,
      policies: [],
    });
  }
  return { operations: ops, problems };
}

/** JSON with sorted keys: Keystone may return the rules with keys in another order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
