import { createHash } from "node:crypto";
import type { Identity } from "../../identity/index.js";
import { FACADE_DOMAIN, type ProjectScope } from "../../tokens/index.js";

/** Keystone's error shape: `{"error": {"code": 401, "title": "Unauthorized", "message": "..."}}`. */
export function keystoneError(status: number, message: string) {
  const titles: Record<number, string> = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    503: "Service Unavailable",
  };
  return { error: { code: status, title: titles[status] ?? "Error", message } };
}

/** Keystone-style timestamps (microseconds, Z). */
export function keystoneTime(ms: number): string {
  // toISOString always ends in ".mmmZ": append the microseconds Keystone prints without a regex per call.
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

/** The facade's user id for a person: stable and opaque. */
export function facadeUserId(identity: Identity): string {
  let id = recentUserIds.get(identity.id);
  if (id === undefined) {
    id = createHash("sha256").update(identity.id).digest("hex").slice(0, 32);
    if (recentUserIds.size >= 10_000) recentUserIds.clear();
    recentUserIds.set(identity.id, id);
  }
  return id;
}
// Every validation answer carries the user id: a hash per request is a visible share of it, and the id of an
// identity never changes.
const recentUserIds = new Map<string, string>();

/** `GET /v3` version document. */
export function versionDocument(publicUrl: string) {
  return {
    version: {
      id: "v3.14",
      status: "stable",
      updated: "2020-04-07T00:00:00Z",
      links: [{ rel: "self", href: `${publicUrl}/v3/` }],
      "media-types": [{ base: "application/json", type: "application/vnd.openstack.identity-v3+json" }],
    },
  };
}

/** One catalog service entry. */
export interface CatalogService {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string; region_id: string; url: string }[];
}

/** What a token document says. */
export interface TokenFacts {
  identity: Identity;
  methods: string[];
  /** Keystone's `audit_ids`: the token's own id, then its chain's (the first token's) when it was re-scoped. */
  auditIds: string[];
  issuedAt: number;
  expiresAt: number;
  project?: ProjectScope;
}

/**
 * A token document's JSON text with `catalogJson` (an already serialized catalog) inside, or without a catalog.
 * The catalog is most of the document and the same for everyone with the same clouds: it is serialized once
 * (see `FacadeCatalogs`) and only joined here.
 */
export function tokenJson(facts: TokenFacts, catalogJson?: string): string {
  const json = JSON.stringify(tokenBody(facts));
  // The document ends with the token object's and the document's closing braces.
  return catalogJson === undefined ? json : `${json.slice(0, -2)},"catalog":${catalogJson}}}`;
}

/** A token document as keystoneauth and openstacksdk read it. */
export interface TokenBody {
  token: {
    methods: string[];
    user: { id: string; name: string; domain: typeof FACADE_DOMAIN; password_expires_at: null };
    audit_ids: string[];
    issued_at: string;
    expires_at: string;
    project?: { id: string; name: string; domain: typeof FACADE_DOMAIN };
    is_domain?: false;
    roles?: { id: string; name: string }[];
    catalog?: CatalogService[];
  };
}

/** A token body as keystoneauth and openstacksdk read it. */
export function tokenBody(opts: TokenFacts & { catalog?: CatalogService[] }): TokenBody {
  const { identity, project } = opts;
  const token: TokenBody["token"] = {
    methods: opts.methods,
    user: { id: facadeUserId(identity), name: identity.username, domain: FACADE_DOMAIN, password_expires_at: null },
    audit_ids: opts.auditIds,
    issued_at: keystoneTime(opts.issuedAt),
    expires_at: keystoneTime(opts.expiresAt),
  };
  // Fields added in place rather than spread in: conditional spreads sent V8 through its slow path per token.
  if (project) {
    token.project = { id: project.id, name: project.name, domain: FACADE_DOMAIN };
    token.is_domain = false;
    token.roles = project.roles.map((r) => ({ id: r, name: r }));
  }
  if (opts.catalog) token.catalog = opts.catalog;
  return { token };
}

/** A project as `/v3/auth/projects` lists it; the description says where it exists (its regions). */
export function projectBody(p: ProjectScope, publicUrl: string) {
  return {
    id: p.id,
    name: p.name,
    domain_id: FACADE_DOMAIN.id,
    description: `${p.keystoneDomain}/${p.keystoneName} in ${regionsText(p.regionIds)}`,
    enabled: true,
    is_domain: false,
    parent_id: FACADE_DOMAIN.id,
    tags: [],
    links: { self: `${publicUrl}/v3/projects/${p.id}` },
  };
}

/** "cloud cloud-1", "clouds cloud-1, cloud-2", or a count past a few (a project may span thousands of sites). */
function regionsText(regionIds: readonly string[]): string {
  if (regionIds.length === 1) return `cloud ${regionIds[0]}`;
  if (regionIds.length <= 5) return `clouds ${regionIds.join(", ")}`;
  return `${regionIds.length} clouds (${regionIds.slice(0, 3).join(", ")}, ...)`;
}
