import { createHash } from "node:crypto";
import type { Identity } from "../identity/index.js";
import { type CompiledPolicySet, evaluate } from "../policy/index.js";

/** The domain every facade project is shown in (the clouds' own domains differ; this one is Archway's view). */
export const FACADE_DOMAIN = { id: "archway", name: "archway" } as const;

/** A project a person may scope to through the facade: one Keystone project in one cloud. */
export interface FacadeProject {
  /** Stable id: a hash of cloud, domain and name, the same for everyone and every Archway process. */
  id: string;
  /** `<cloud>:<project>` so that a person can tell clouds apart in `openstack project list`. */
  name: string;
  cloudId: string;
  /** The project's name and domain in that cloud's Keystone. */
  keystoneName: string;
  keystoneDomain: string;
  roles: string[];
}

/** The facade id of a cloud project. */
export function facadeProjectId(cloudId: string, domain: string, name: string): string {
  return createHash("sha256").update(`${cloudId}\0${domain}\0${name}`).digest("hex").slice(0, 32);
}

/** Every project the policies give this person, across clouds, sorted by name. */
export function entitledProjects(identity: Identity, policies: CompiledPolicySet): FacadeProject[] {
  const out: FacadeProject[] = [];
  for (const [cloudId, access] of evaluate(identity, policies)) {
    const roles = new Map<string, string[]>();
    for (const a of access.assignments) {
      const key = `${a.projectDomain}/${a.project}`;
      roles.set(key, [...(roles.get(key) ?? []), a.role]);
    }
    for (const p of access.projects) {
      const r = roles.get(`${p.domain}/${p.name}`);
      if (!r) continue; // a project without a role cannot be scoped to
      out.push({
        id: facadeProjectId(cloudId, p.domain, p.name),
        name: `${cloudId}:${p.name}`,
        cloudId,
        keystoneName: p.name,
        keystoneDomain: p.domain,
        roles: [...new Set(r)].sort(),
      });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The project a proxied call to `cloudId` runs in: the scoped project when it is in that cloud, else the
 * person's project of the same name there, else their first project there (by name).
 */
export function projectForCloud(
  projects: readonly FacadeProject[],
  cloudId: string,
  scoped?: FacadeProject,
): FacadeProject | undefined {
  if (scoped?.cloudId === cloudId) return scoped;
  const inCloud = projects.filter((p) => p.cloudId === cloudId);
  return inCloud.find((p) => p.keystoneName === scoped?.keystoneName) ?? inCloud[0];
}
