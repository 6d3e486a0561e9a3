// What one simulated cloud holds, in memory. Keystone ids are UUIDs; quotas start at the services' defaults.
import type { Json } from "./http.js";

export interface CloudState {
  domains: Map<string, Json>;
  projects: Map<string, Json>;
  users: Map<string, Json>;
  groups: Map<string, Json>;
  /** Group id -> member user ids. */
  members: Map<string, Set<string>>;
  roles: Json[];
  /** `<project>|<actor>|<role>`: user grants and group grants kept apart. */
  userGrants: Set<string>;
  groupGrants: Set<string>;
  /** Users whose one application credential was deleted (every user starts with one, for offboarding). */
  credentialsGone: Set<string>;
  /** Per service type, project id -> limits set (absent: the service's defaults). */
  quotas: Map<string, Map<string, Record<string, number>>>;
  flavors: Map<string, Json>;
  /** Flavor id -> project ids with access (private flavors). */
  flavorAccess: Map<string, Set<string>>;
  securityGroups: Map<string, Json>;
  securityGroupRules: Map<string, Json>;
}

const clouds = new Map<string, CloudState>();

/** The state of cloud `id`, made empty (a `Default` domain, three roles) on first use. */
export function cloud(id: string): CloudState {
  let c = clouds.get(id);
  if (!c) {
    c = {
      domains: new Map([["default", { id: "default", name: "Default", enabled: true, description: "" }]]),
      projects: new Map([["admin", { id: "admin", name: "admin", domain_id: "default", enabled: true, tags: [] }]]),
      users: new Map(),
      groups: new Map(),
      members: new Map(),
      roles: ["member", "reader", "admin"].map((name) => ({ id: `role-${name}`, name, domain_id: null })),
      userGrants: new Set(),
      groupGrants: new Set(),
      credentialsGone: new Set(),
      quotas: new Map(),
      flavors: new Map(),
      flavorAccess: new Map(),
      securityGroups: new Map(),
      securityGroupRules: new Map(),
    };
    clouds.set(id, c);
  }
  return c;
}

/** The limits of a project for a service: its defaults overlaid with what was set. */
export function limitsOf(c: CloudState, service: string, project: string, defaults: Record<string, number>) {
  return { ...defaults, ...c.quotas.get(service)?.get(project) };
}

/** Sets some limits; unknown names refused (the real services answer 400). */
export function setLimits(
  c: CloudState,
  service: string,
  project: string,
  defaults: Record<string, number>,
  changes: Record<string, unknown>,
): Record<string, number> | null {
  const next = { ...c.quotas.get(service)?.get(project) };
  for (const [name, value] of Object.entries(changes)) {
    if (!(name in defaults) || typeof value !== "number" || !Number.isInteger(value) || value < -1) return null;
    next[name] = value;
  }
  let byProject = c.quotas.get(service);
  if (!byProject) {
    byProject = new Map();
    c.quotas.set(service, byProject);
  }
  byProject.set(project, next);
  return limitsOf(c, service, project, defaults);
}

/** Back to the defaults. */
export function resetLimits(c: CloudState, service: string, project: string): void {
  c.quotas.get(service)?.delete(project);
}
