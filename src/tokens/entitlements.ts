import { createHash } from "node:crypto";
import type { Identity } from "../identity/index.js";
import {
  type CloudAccess,
  type CompiledPolicySet,
  type DesiredAccess,
  evaluateSession,
  type SessionStrength,
  WITHOUT_MFA,
} from "../policy/index.js";

/** The domain every facade project is shown in (the clouds' own domains differ; this one is Archway's view). */
export const FACADE_DOMAIN = { id: "archway", name: "archway" } as const;

/**
 * The audience of tokens for Archway's `/v3` facade (and the proxy behind it): the facade's own tokens, and OAuth
 * access tokens a client allowed `facade` asked for with `resource=archway:keystone` (`archway login`).
 */
export const FACADE_AUDIENCE = "archway:keystone";

/**
 * One Keystone project in one cloud, as the broker and the proxy act in it. Its id and `<cloud>:<project>` name are
 * also a single-region alias a token may be scoped to (see {@link ProjectScope}).
 */
export interface FacadeProject {
  /** Stable id of the single-region alias: a hash of the fields cloud, domain and name. */
  readonly id: string;
  /** `<cloud>:<project>` (the project part as the multi-region project is named, see {@link ProjectScope.name}). */
  name: string;
  cloudId: string;
  /** The project's name and domain in that cloud's Keystone. */
  keystoneName: string;
  keystoneDomain: string;
  /** The roles this session may act with there. */
  roles: string[];
  /**
   * Roles the person holds there in Keystone (sync provisions them) that this session may not use: they wait on a
   * second factor the session has not passed. Non-empty only then; the broker's Keystone token must not carry them.
   */
  withheldRoles: readonly string[];
  /** Whether the session these entitlements were computed for passed a second factor. */
  sessionMfa: boolean;
}

/**
 * What a facade token is scoped to, and so the only place it acts. Either a project in the OpenStack sense (one
 * Keystone domain and name, present in every cloud where the person holds it: each such cloud is a region of it), or
 * a `<cloud>:<project>` single-region alias of one of those regions.
 */
export interface ProjectScope {
  /** Stable and the same for everyone: a hash of the fields (domain, name), or (cloud, domain, name) for an alias. */
  id: string;
  /**
   * The Keystone project name; `<domain>/<name>` when the person holds projects of that name in more than one
   * Keystone domain; `<cloud>:` before it for an alias.
   */
  name: string;
  keystoneDomain: string;
  keystoneName: string;
  /** The person's roles on it, in every region together (each region still acts with that cloud's own roles). */
  roles: string[];
  /** Cloud id -> the person's project there: the only clouds a token scoped here reaches. */
  regions: ReadonlyMap<string, FacadeProject>;
  /** The keys of `regions`, sorted. */
  regionIds: readonly string[];
  /** A single-region alias: accepted for scoping and by id, not listed. */
  alias: boolean;
}

/** A person's facade projects, looked up in O(1) by id or name. */
export interface Entitlements {
  /** One per cloud project, sorted by name (`<cloud>:<project>`). */
  cloudProjects: readonly FacadeProject[];
  /** The projects listings show, one per Keystone domain and name, sorted by name. */
  projects: readonly ProjectScope[];
  /** A project or alias by id. */
  byId(id: string): ProjectScope | undefined;
  /** A project or alias by its facade name. */
  byName(name: string): ProjectScope | undefined;
}

/** The id of the single-region alias of project `domain`/`name` in `cloudId`. */
export function facadeProjectId(cloudId: string, domain: string, name: string): string {
  return idOf(["region", cloudId, domain, name]);
}

/** The id of the multi-region project `domain`/`name` (the same in every cloud, for everyone). */
export function projectScopeId(domain: string, name: string): string {
  return idOf(["project", domain, name]);
}

/**
 * The cloud project a call to `cloudId` runs in under `scope`: that region of the scoped project, or nothing. An
 * unscoped token (no scope) reaches no cloud, and a scope never reaches a cloud it has no region in.
 */
export function projectInCloud(scope: ProjectScope | undefined, cloudId: string): FacadeProject | undefined {
  return scope?.regions.get(cloudId);
}

/**
 * Every project the policies give this person's session, across clouds, sorted by name (`<cloud>:<project>`).
 * Without a strength, the session is taken to have passed no second factor (grants that require one left out).
 */
export function entitledProjects(
  identity: Identity,
  policies: CompiledPolicySet,
  strength: SessionStrength = WITHOUT_MFA,
): FacadeProject[] {
  return [...entitlementsOf(identity, policies, strength).cloudProjects];
}

/**
 * The facade projects of one session of a person, and their regions, from the policies: the grants that require a
 * second factor count only when `strength.mfa` (default: they do not). Where the clouds hold roles this session may
 * not use, each cloud project says which (`withheldRoles`).
 */
export function entitlementsOf(
  identity: Identity,
  policies: CompiledPolicySet,
  strength: SessionStrength = WITHOUT_MFA,
): Entitlements {
  const { access, provisioned } = evaluateSession(identity, policies, strength);
  return entitlementsFrom(access, strength.mfa, access === provisioned ? undefined : provisioned);
}

/** A project's roles in one cloud, per distinct evaluation result (clouds under the same policies share one). */
interface Held {
  domain: string;
  name: string;
  roles: string[];
}

/**
 * The facade projects of one person's evaluated access: a project (Keystone domain and name) spans every cloud where
 * it has a role; each cloud project is also its own single-region alias. Projects without a role are left out (they
 * cannot be scoped to). `provisioned` (what sync gives the person, when it differs from `access`) tells which
 * roles the clouds hold beyond this session's.
 */
export function entitlementsFrom(access: DesiredAccess, sessionMfa = false, provisioned?: DesiredAccess): Entitlements {
  const held = new Map<CloudAccess, Held[]>();
  const spanning = new Map<string, { domain: string; name: string; roles: Set<string>; regions: Map<string, Held> }>();
  for (const [cloudId, cloudAccess] of access) {
    let list = held.get(cloudAccess);
    if (!list) {
      list = heldIn(cloudAccess);
      held.set(cloudAccess, list);
    }
    for (const h of list) {
      const key = fieldsKey([h.domain, h.name]);
      let s = spanning.get(key);
      if (!s) {
        s = { domain: h.domain, name: h.name, roles: new Set(), regions: new Map() };
        spanning.set(key, s);
      }
      for (const r of h.roles) s.roles.add(r);
      s.regions.set(cloudId, h);
    }
  }
  // A name held in two Keystone domains would be ambiguous: then both are shown with their domain.
  const domainsOfName = new Map<string, number>();
  for (const s of spanning.values()) domainsOfName.set(s.name, (domainsOfName.get(s.name) ?? 0) + 1);

  const projects: ProjectScope[] = [];
  const cloudProjects: FacadeProject[] = [];
  for (const s of spanning.values()) {
    const name = (domainsOfName.get(s.name) ?? 0) > 1 ? `${s.domain}/${s.name}` : s.name;
    const regionIds = [...s.regions.keys()].sort(compareStrings);
    const regions = new Map<string, FacadeProject>();
    for (const cloudId of regionIds) {
      const h = s.regions.get(cloudId) as Held;
      const withheld = provisioned ? withheldRoles(provisioned.get(cloudId), h) : NONE;
      const project = new CloudProject(`${cloudId}:${name}`, cloudId, s.name, s.domain, h.roles, withheld, sessionMfa);
      regions.set(cloudId, project);
      cloudProjects.push(project);
    }
    projects.push({
      id: projectScopeId(s.domain, s.name),
      name,
      keystoneDomain: s.domain,
      keystoneName: s.name,
      roles: [...s.roles].sort(compareStrings),
      regions,
      regionIds,
      alias: false,
    });
  }
  projects.sort(byName);
  cloudProjects.sort(byName);
  return new Indexed(projects, cloudProjects);
}

/**
 * A {@link FacadeProject} whose id is hashed when first read: only a token scoped to the alias needs it, and a
 * person in a thousand clouds would otherwise pay a thousand hashes per evaluation.
 */
class CloudProject implements FacadeProject {
  #id: string | undefined;

  constructor(
    readonly name: string,
    readonly cloudId: string,
    readonly keystoneName: string,
    readonly keystoneDomain: string,
    readonly roles: string[],
    readonly withheldRoles: readonly string[],
    readonly sessionMfa: boolean,
  ) {}

  get id(): string {
    this.#id ??= facadeProjectId(this.cloudId, this.keystoneDomain, this.keystoneName);
    return this.#id;
  }
}

/** The lookups of {@link Entitlements}; alias scopes are made on first use and then kept (callers compare them by identity). */
class Indexed implements Entitlements {
  readonly #projectsById = new Map<string, ProjectScope>();
  readonly #projectsByName = new Map<string, ProjectScope>();
  /** Built on the first lookup of an id that is not a project's: most tokens name a project, not an alias. */
  #cloudById: Map<string, FacadeProject> | undefined;
  readonly #cloudByName = new Map<string, FacadeProject>();
  readonly #aliases = new Map<FacadeProject, ProjectScope>();

  constructor(
    readonly projects: readonly ProjectScope[],
    readonly cloudProjects: readonly FacadeProject[],
  ) {
    for (const p of projects) {
      this.#projectsById.set(p.id, p);
      if (!this.#projectsByName.has(p.name)) this.#projectsByName.set(p.name, p);
    }
    for (const p of cloudProjects) if (!this.#cloudByName.has(p.name)) this.#cloudByName.set(p.name, p);
  }

  byId(id: string): ProjectScope | undefined {
    const project = this.#projectsById.get(id);
    if (project) return project;
    this.#cloudById ??= new Map(this.cloudProjects.map((p) => [p.id, p]));
    return this.#alias(this.#cloudById.get(id));
  }

  byName(name: string): ProjectScope | undefined {
    return this.#projectsByName.get(name) ?? this.#alias(this.#cloudByName.get(name));
  }

  #alias(project: FacadeProject | undefined): ProjectScope | undefined {
    if (!project) return undefined;
    let scope = this.#aliases.get(project);
    if (!scope) {
      scope = {
        id: project.id,
        name: project.name,
        keystoneDomain: project.keystoneDomain,
        keystoneName: project.keystoneName,
        roles: project.roles,
        regions: new Map([[project.cloudId, project]]),
        regionIds: [project.cloudId],
        alias: true,
      };
      this.#aliases.set(project, scope);
    }
    return scope;
  }
}

const NONE: readonly string[] = Object.freeze([]);

/** Roles the person holds on `held`'s project in `provisioned` (sync's view of one cloud) beyond `held.roles`. */
function withheldRoles(provisioned: CloudAccess | undefined, held: Held): readonly string[] {
  if (!provisioned) return NONE;
  const out: string[] = [];
  for (const a of provisioned.assignments)
    if (
      a.project === held.name &&
      a.projectDomain === held.domain &&
      !held.roles.includes(a.role) &&
      !out.includes(a.role)
    )
      out.push(a.role);
  return out.length === 0 ? NONE : out.sort(compareStrings);
}

/** The projects of one cloud's access that carry a role, each with its roles (sorted, distinct). */
function heldIn(access: CloudAccess): Held[] {
  const roles = new Map<string, string[]>();
  for (const a of access.assignments) {
    const key = fieldsKey([a.projectDomain, a.project]);
    const list = roles.get(key);
    if (!list) roles.set(key, [a.role]);
    else if (!list.includes(a.role)) list.push(a.role);
  }
  const out: Held[] = [];
  for (const p of access.projects) {
    const r = roles.get(fieldsKey([p.domain, p.name]));
    if (r) out.push({ domain: p.domain, name: p.name, roles: r.sort(compareStrings) });
  }
  return out;
}

/** A collision-free key of several strings: their lengths say where each ends, whatever characters they hold. */
function fieldsKey(fields: readonly string[]): string {
  let head = "";
  for (const f of fields) head += `${f.length}:`;
  return `${head};${fields.join("")}`;
}

function idOf(fields: readonly string[]): string {
  return createHash("sha256").update(fieldsKey(fields)).digest("hex").slice(0, 32);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byName(a: { name: string }, b: { name: string }): number {
  return compareStrings(a.name, b.name);
}
