import { type Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Audit } from "../../audit/index.js";
import { isArchwayError } from "../../errors.js";
import type { Identity, LoginGuard, PasswordSource } from "../../identity/index.js";
import type { CompiledPolicySet } from "../../policy/index.js";
import {
  type ArchwayClaims,
  entitledProjects,
  FACADE_DOMAIN,
  type FacadeProject,
  type IdentitySessions,
  type TokenService,
} from "../../tokens/index.js";
import { type AppEnv, clientIp, requestHeader, requestJson, setResponseHeader } from "../env.js";
import { AuthRequestSchema } from "./auth-request.js";
import type { CloudCatalogs } from "./catalog.js";
import { type CatalogService, keystoneError, projectBody, tokenBody, versionDocument } from "./shapes.js";

/** The audience of tokens the facade issues; the proxy accepts the same. */
export const FACADE_AUDIENCE = "archway:keystone";

/** What the facade needs. */
export interface FacadeDeps {
  publicUrl: string;
  tokens: TokenService;
  sessions: IdentitySessions;
  guard: LoginGuard;
  sources: readonly PasswordSource[];
  policies: () => CompiledPolicySet;
  catalogs: Pick<CloudCatalogs, "cloud" | "services">;
  ttlSeconds: number;
  audit: Audit;
}

/** A caller authenticated by an Archway facade token. */
export interface FacadeCaller {
  claims: ArchwayClaims;
  identity: Identity;
  projects: FacadeProject[];
  scoped?: FacadeProject;
}

// Entitlements per session for a few seconds: evaluation is cheap, but a validation storm should not repeat it.
const recentProjects = new WeakMap<CompiledPolicySet, Map<string, { until: number; projects: FacadeProject[] }>>();

function projectsOf(identity: Identity, policies: CompiledPolicySet, sid: string): FacadeProject[] {
  let bySession = recentProjects.get(policies);
  if (!bySession) {
    bySession = new Map();
    recentProjects.set(policies, bySession);
  }
  const now = Date.now();
  const hit = bySession.get(sid);
  if (hit && hit.until > now) return hit.projects;
  const projects = entitledProjects(identity, policies);
  if (bySession.size >= 10_000) bySession.clear();
  bySession.set(sid, { until: now + 5_000, projects });
  return projects;
}

/** Keystone errors carry Keystone's shape; every other failure of the facade is mapped to it. */
class KeystoneHttpError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

/** Resolves an `X-Auth-Token` into the caller, or throws a 401 in Keystone's shape. */
export async function facadeCaller(
  deps: Pick<FacadeDeps, "tokens" | "sessions" | "policies">,
  token: string | undefined,
): Promise<FacadeCaller> {
  if (!token) throw new KeystoneHttpError(401, "The request you have made requires authentication.");
  let claims: ArchwayClaims;
  try {
    claims = await deps.tokens.verify(token, { audience: FACADE_AUDIENCE });
  } catch (err) {
    throw new KeystoneHttpError(
      401,
      isArchwayError(err) ? err.message : "The request you have made requires authentication.",
    );
  }
  const identity = typeof claims.sid === "string" ? await deps.sessions.get(claims.sid) : null;
  if (!identity) throw new KeystoneHttpError(401, "the session behind this token has ended");
  const projects = projectsOf(identity, deps.policies(), String(claims.sid));
  const scoped = typeof claims.prj === "string" ? projects.find((p) => p.id === claims.prj) : undefined;
  if (typeof claims.prj === "string" && !scoped)
    throw new KeystoneHttpError(401, "the project of this token is no longer granted to you");
  return { claims, identity, projects, scoped };
}

type FacadeHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

/**
 * Answers failures of `handler` in Keystone's shape; anything else goes on to the app's error handler. A wrapper
 * per route rather than the sub-app's `onError`: Hono's `route()` runs a sub-app's error handler through an
 * extra `compose` on every request.
 */
function keystoneErrors(handler: FacadeHandler): FacadeHandler {
  return async (c) => {
    try {
      return await handler(c);
    } catch (err) {
      if (err instanceof KeystoneHttpError) return c.json(keystoneError(err.status, err.message), err.status);
      if (isArchwayError(err))
        return c.json(keystoneError(err.status, err.message), err.status as ContentfulStatusCode);
      if (err instanceof SyntaxError) return c.json(keystoneError(400, "request body is not valid JSON"), 400);
      throw err;
    }
  };
}

/**
 * The Keystone v3 subset keystoneauth1, openstacksdk and the `openstack` CLI use: every entitled cloud shows up as
 * a region of one catalog whose endpoints point at Archway's proxy.
 */
export function keystoneFacade(deps: FacadeDeps) {
  const app = new Hono<AppEnv>();

  app.get(
    "/v3",
    keystoneErrors((c) => c.json(versionDocument(deps.publicUrl))),
  );
  app.get(
    "/v3/",
    keystoneErrors((c) => c.json(versionDocument(deps.publicUrl))),
  );

  app.post(
    "/v3/auth/tokens",
    keystoneErrors(async (c) => {
      const parsed = AuthRequestSchema.safeParse(await requestJson(c));
      if (!parsed.success)
        throw new KeystoneHttpError(
          400,
          `invalid auth request: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`,
        );
      const { identity: auth, scope } = parsed.data.auth;
      let identity: Identity;
      let sid: string;
      let methods: string[];
      let projects: FacadeProject[] | undefined;
      if (auth.methods.includes("password") && auth.password) {
        const user = auth.password.user;
        if (!user.name) throw new KeystoneHttpError(400, "password authentication needs a user name");
        const source = pickSource(deps.sources, user.domain?.name ?? user.domain?.id);
        if (!source) throw new KeystoneHttpError(401, "unknown user domain");
        identity = await deps.guard.login(source, user.name, user.password, clientIp(c)).catch((err) => {
          if (isArchwayError(err) && err.code === "login_failed")
            throw new KeystoneHttpError(401, "The request you have made requires authentication.");
          throw err;
        });
        sid = await deps.sessions.create(identity);
        methods = ["password"];
      } else if (auth.methods.includes("token") && auth.token) {
        const caller = await facadeCaller(deps, auth.token.id);
        identity = caller.identity;
        sid = String(caller.claims.sid);
        methods = ["token"];
        // The same evaluation of the same session's identity that validated the token: no second one per re-scope.
        projects = caller.projects;
      } else {
        throw new KeystoneHttpError(401, `unsupported authentication method(s): ${auth.methods.join(", ")}`);
      }
      projects ??= entitledProjects(identity, deps.policies());
      let project: FacadeProject | undefined;
      const wanted = scope && scope !== "unscoped" ? scope.project : undefined;
      if (scope && scope !== "unscoped" && (scope.domain || scope.system))
        throw new KeystoneHttpError(401, "only project scope is available through Archway");
      if (wanted) {
        project = projects.find((p) =>
          wanted.id ? p.id === wanted.id : p.name === wanted.name && domainMatches(wanted.domain),
        );
        if (!project) {
          await deps.audit({
            type: "token.refused",
            actor: identity.username,
            reason: "project_not_granted",
            project: wanted.id ?? wanted.name,
          });
          throw new KeystoneHttpError(401, `you have no role on project ${wanted.id ?? wanted.name}`);
        }
      }
      const issued = await deps.tokens.issue({
        subject: identity.id,
        audience: FACADE_AUDIENCE,
        ttlSeconds: deps.ttlSeconds,
        claims: { sid, amr: methods, ...(project ? { prj: project.id } : {}) },
      });
      const catalog =
        project && c.req.query("nocatalog") === undefined ? await buildCatalog(deps, projects) : undefined;
      const body = tokenBody({
        identity,
        methods,
        auditId: issued.jti,
        issuedAt: Date.now(),
        expiresAt: issued.expiresAt * 1000,
        project,
        catalog,
      });
      return c.json(body, 201, { "X-Subject-Token": issued.token });
    }),
  );

  app.on(
    ["GET", "HEAD"],
    "/v3/auth/tokens",
    keystoneErrors(async (c) => {
      const authToken = requestHeader(c, "x-auth-token");
      const caller = await facadeCaller(deps, authToken);
      // A client validating its own token (the common case) is checked once.
      const subject =
        requestHeader(c, "x-subject-token") === authToken
          ? caller
          : await facadeCaller(deps, requestHeader(c, "x-subject-token")).catch(() => {
              throw new KeystoneHttpError(404, "Could not find token.");
            });
      if (c.req.method === "HEAD") return c.body(null, 200);
      const catalog =
        c.req.query("nocatalog") !== undefined || !subject.scoped
          ? undefined
          : await buildCatalog(deps, subject.projects);
      setResponseHeader(c, "x-subject-token", requestHeader(c, "x-subject-token") ?? "");
      if (catalog) return c.json(validationBody(subject, catalog), 200);
      // Every check above ran for this request; only the serialization of an unchanged answer is reused.
      return c.body(validationJson(subject), 200, { "Content-Type": "application/json" });
    }),
  );

  /**
   * The catalog-less answer serialized once per verified token, while the session's identity and the scoped
   * project are the very objects it was built from: the session and entitlement caches hand out the same objects
   * until they refresh, and the claims object is the token service's cached verification of that token.
   */
  const validationJsons = new WeakMap<ArchwayClaims, { identity: Identity; scoped?: FacadeProject; json: string }>();
  const validationJson = (subject: FacadeCaller): string => {
    const hit = validationJsons.get(subject.claims);
    if (hit && hit.identity === subject.identity && hit.scoped === subject.scoped) return hit.json;
    const json = JSON.stringify(validationBody(subject, undefined));
    validationJsons.set(subject.claims, { identity: subject.identity, scoped: subject.scoped, json });
    return json;
  };

  app.delete(
    "/v3/auth/tokens",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      const subject = await facadeCaller(deps, requestHeader(c, "x-subject-token")).catch(() => {
        throw new KeystoneHttpError(404, "Could not find token.");
      });
      if (subject.identity.id !== caller.identity.id)
        throw new KeystoneHttpError(403, "you may only revoke your own tokens");
      await deps.tokens.revoke(subject.claims.jti, subject.claims.exp, subject.identity.username);
      return c.body(null, 204);
    }),
  );

  const listProjects = keystoneErrors(async (c) => {
    const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
    const name = c.req.query("name");
    const projects = caller.projects.filter((p) => !name || p.name === name);
    return c.json({
      projects: projects.map((p) => projectBody(p, deps.publicUrl)),
      links: { self: `${deps.publicUrl}${c.req.path}`, next: null, previous: null },
    });
  });
  app.get("/v3/auth/projects", listProjects);
  app.get("/v3/projects", listProjects);
  app.get("/v3/users/:userId/projects", listProjects);
  app.get(
    "/v3/projects/:id",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      const project = caller.projects.find((p) => p.id === c.req.param("id"));
      if (!project) throw new KeystoneHttpError(404, `Could not find project: ${c.req.param("id")}.`);
      return c.json({ project: projectBody(project, deps.publicUrl) });
    }),
  );
  app.get(
    "/v3/auth/domains",
    keystoneErrors(async (c) => {
      await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      return c.json({
        domains: [{ ...FACADE_DOMAIN, enabled: true, description: "Archway" }],
        links: { self: `${deps.publicUrl}/v3/auth/domains`, next: null, previous: null },
      });
    }),
  );
  app.get(
    "/v3/auth/catalog",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      return c.json({
        catalog: await buildCatalog(deps, caller.projects),
        links: { self: `${deps.publicUrl}/v3/auth/catalog` },
      });
    }),
  );
  return app;
}

/** The token document answering a validation of `subject`'s token. */
function validationBody(subject: FacadeCaller, catalog: CatalogService[] | undefined) {
  return tokenBody({
    identity: subject.identity,
    methods: Array.isArray(subject.claims.amr) ? subject.claims.amr.map(String) : ["password"],
    auditId: subject.claims.jti,
    issuedAt: subject.claims.iat * 1000,
    expiresAt: subject.claims.exp * 1000,
    project: subject.scoped,
    catalog,
  });
}

function pickSource(sources: readonly PasswordSource[], domain: string | undefined): PasswordSource | undefined {
  if (!domain || domain.toLowerCase() === "default" || domain === FACADE_DOMAIN.name) return sources[0];
  return sources.find((s) => s.id === domain);
}

function domainMatches(domain: { id?: string; name?: string } | undefined): boolean {
  if (!domain) return true;
  const v = domain.id ?? domain.name;
  return v === undefined || v === FACADE_DOMAIN.id || v.toLowerCase() === "default";
}

/** One region per entitled cloud; every endpoint points at Archway (the proxy, or this facade for identity). */
async function buildCatalog(
  deps: Pick<FacadeDeps, "catalogs" | "publicUrl">,
  projects: readonly FacadeProject[],
): Promise<CatalogService[]> {
  const clouds = [...new Set(projects.map((p) => p.cloudId))].sort();
  const byType = new Map<string, CatalogService>();
  const add = (type: string, cloudId: string, url: string) => {
    let entry = byType.get(type);
    if (!entry) {
      entry = { id: type, type, name: type, endpoints: [] };
      byType.set(type, entry);
    }
    entry.endpoints.push({ id: `${cloudId}-${type}`, interface: "public", region: cloudId, region_id: cloudId, url });
  };
  for (const cloudId of clouds) {
    add("identity", cloudId, `${deps.publicUrl}/v3`);
    for (const [type, real] of await deps.catalogs.services(cloudId)) {
      add(type, cloudId, `${deps.publicUrl}/clouds/${cloudId}/${type}${new URL(real).pathname.replace(/\/+$/, "")}`);
    }
  }
  return [...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1));
}
