import { type Cloud, federationAudience } from "../../../config/index.js";
import { type DesiredCloudState, federationGroupName, sortedUnion } from "../../../policy/index.js";
import type { ProjectRef } from "../../project-ref.js";

/** What a federated cloud should hold besides projects: groups with their grants, and the federation objects. */
export interface FederationDesired {
  /** Group name -> the project roles it carries. */
  groups: Map<string, { project: ProjectRef; role: string; policies: string[] }[]>;
  idp: { id: string; remoteIds: string[] };
  mapping: { id: string; rules: unknown[] };
  protocol: { id: string; mappingId: string };
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
  const groups = new Map<string, { project: ProjectRef; role: string; policies: string[] }[]>();
  for (const a of desired.assignments) {
    const name = federationGroupName(a, cloud.domain);
    const grants = groups.get(name) ?? [];
    const same = grants.find(
      (g) => g.project.domain === a.projectDomain && g.project.name === a.project && g.role === a.role,
    );
    if (same) same.policies = sortedUnion(same.policies, a.policies);
    else
      grants.push({ project: { domain: a.projectDomain, name: a.project }, role: a.role, policies: [...a.policies] });
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
      ...(desired.manifests ? { manifests: desired.manifests } : {}),
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
