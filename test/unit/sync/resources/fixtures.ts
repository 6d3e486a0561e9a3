// Plain-object fixtures for the planners: a cloud, an observed state built from per-resource slices, and a plan.
import { CloudSchema } from "../../../../src/config/index.js";
import type { DesiredCloudState, DesiredUser } from "../../../../src/policy/index.js";
import {
  DEPLOYMENT_ATTR,
  deploymentTag,
  IDENTITY_ATTR,
  KEY_VERSION_ATTR,
  KEYS_ATTR,
  ObservedCloud,
  type OwnedUser,
  type Ownership,
  ownedUser,
  type PlanOptions,
  planCloud,
  RESOURCES,
  SHADOW_USER_OPTIONS,
  type SyncInput,
  USER_MARK,
} from "../../../../src/sync/index.js";
import { ProjectMap } from "../../../../src/sync/project-ref.js";
import type { FederationDesired } from "../../../../src/sync/resources/federation/desired.js";
import type { FlavorsObserved } from "../../../../src/sync/resources/flavor/index.js";
import type { GroupsObserved } from "../../../../src/sync/resources/group/index.js";
import type { ImagesObserved } from "../../../../src/sync/resources/image/index.js";
import type { ObservedProject } from "../../../../src/sync/resources/project/index.js";
import { emptyQuotaSlice, type QuotaSlice } from "../../../../src/sync/resources/quota/index.js";
import type { SecurityGroupSlice } from "../../../../src/sync/resources/security-group/index.js";

export const cloud = CloudSchema.parse({
  id: "cloud-1",
  authUrl: "http://127.0.0.1:15001/v3",
  admin: { username: "admin", password: "x" },
});
export const DOMAIN = cloud.domain;
export const NOW = new Date("2026-12-06T12:00:00Z");
/** This deployment: `t`, not adopting the marks from before deployment ids. */
export const OWN: Ownership = { deploymentId: "t", adoptUnmarked: false };
export const OPTS: PlanOptions = { keyVersion: 1, graceMs: 3_600_000, now: NOW };

/** Every resource's slice, as its observe step would return it; tests override what they need. */
export interface Slices {
  domain: { id: string | null; byName: Map<string, string> };
  project: ProjectMap<ObservedProject>;
  user: { byIdentity: Map<string, OwnedUser>; foreignNames: Map<string, string> };
  assignment: { list: { userId: string; projectId: string; roleId: string }[]; roles: Map<string, string> };
  group: GroupsObserved;
  membership: null;
  keypair: Map<string, { name: string; public_key: string }[]>;
  "group-grant": { list: { groupId: string; projectId: string; roleId: string }[]; roles: Map<string, string> };
  federation: {
    idp?: { id: string; enabled: boolean; description: string; remote_ids: string[] };
    mappingRules?: unknown[];
    protocolMapping?: string;
  };
  quota: QuotaSlice;
  flavor: FlavorsObserved;
  "security-group": SecurityGroupSlice;
  image: ImagesObserved;
}

const ROLES = () =>
  new Map([
    ["member", "r-member"],
    ["reader", "r-reader"],
  ]);

/** A cloud where Archway's domain exists (id `d1`) and nothing else of Archway's yet. */
export function emptySlices(): Slices {
  return {
    domain: {
      id: "d1",
      byName: new Map([
        [DOMAIN, "d1"],
        ["Default", "default"],
      ]),
    },
    project: new ProjectMap(),
    user: { byIdentity: new Map(), foreignNames: new Map() },
    assignment: { list: [], roles: ROLES() },
    group: new Map(),
    membership: null,
    keypair: new Map(),
    "group-grant": { list: [], roles: ROLES() },
    federation: {},
    quota: emptyQuotaSlice(),
    flavor: { compute: true, byName: new Map(), projectIds: new ProjectMap() },
    "security-group": { groups: [] },
    image: { wanted: false, images: [], versions: new Map() },
  };
}

/** An observed state from slices (every registered resource must have one). */
export function observedOf(over: Partial<Slices> = {}): ObservedCloud {
  const slices: Slices = { ...emptySlices(), ...over };
  const map = new Map<string, unknown>(Object.entries(slices));
  for (const r of RESOURCES) if (!map.has(r.name)) throw new Error(`fixture lacks a slice for ${r.name}`);
  return new ObservedCloud(cloud.id, map);
}

/** An empty desired state, with overrides. */
export function desiredOf(over: Partial<DesiredCloudState> = {}): DesiredCloudState {
  return { cloudId: cloud.id, users: [], projects: [], assignments: [], keys: [], memberships: [], ...over };
}

/** A desired person. */
export function person(username: string, extra: Partial<DesiredUser> = {}): DesiredUser {
  return { identityId: `ldap:${username}`, username, email: `${username}@example.org`, groups: [], ...extra };
}

/** An owned shadow user as observe reads it back (through the real mark parser). */
export function shadow(username: string, extra: Record<string, unknown> = {}): OwnedUser {
  const user = ownedUser(
    {
      id: `u-${username}`,
      name: username,
      domain_id: "d1",
      enabled: true,
      email: `${username}@example.org`,
      options: { ...SHADOW_USER_OPTIONS },
      [USER_MARK]: true,
      [DEPLOYMENT_ATTR]: OWN.deploymentId,
      [IDENTITY_ATTR]: `ldap:${username}`,
      [KEY_VERSION_ATTR]: 1,
      [KEYS_ATTR]: {},
      ...extra,
    } as Parameters<typeof ownedUser>[0],
    "d1",
    OWN,
  );
  if (!user) throw new Error("fixture user is not owned");
  return user;
}

/** Owned users by identity id. */
export function usersOf(...list: OwnedUser[]): Slices["user"] {
  return { byIdentity: new Map(list.map((u) => [u.identityId, u])), foreignNames: new Map() };
}

/** An observed project (owned unless said otherwise). */
export function project(
  domain: string,
  name: string,
  extra: Partial<ObservedProject> = {},
): [ProjectMap<ObservedProject>, ObservedProject] {
  const p: ObservedProject = {
    id: `p-${domain}-${name}`,
    name,
    domainId: domain === DOMAIN ? "d1" : domain,
    description: "",
    tags: ["archway:managed", deploymentTag(OWN.deploymentId)].sort(),
    owned: true,
    ...extra,
  };
  return [new ProjectMap<ObservedProject>().set({ domain, name }, p), p];
}

/** Plans a cloud from desired and observed state. */
export function plan(
  desired: DesiredCloudState,
  observed: ObservedCloud,
  opts: Partial<PlanOptions> = {},
  federation?: FederationDesired,
) {
  const input: SyncInput = { cloud, desired, ownership: OWN, ...(federation ? { federation } : {}) };
  return planCloud(input, observed, { ...OPTS, ...opts });
}

/** The kinds of a plan's operations, in plan order. */
export function kinds(p: { operations: { kind: string }[] }): string[] {
  return p.operations.map((o) => o.kind);
}
