import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import { type Identity, satisfiesMfa } from "../../identity/index.js";
import type { SessionStrength } from "../../policy/index.js";
import type { AppEnv } from "../env.js";
import { FACADE_AUDIENCE } from "../keystone/caller.js";
import { adminRole, type WebDeps, type WebVariables } from "./deps.js";
import { PASSKEY_SCRIPT_HASH } from "./passkeys/script.js";

/** The Hono environment of the web routes: the app's plus the signed-in person. */
export interface WebEnv {
  Bindings: AppEnv["Bindings"];
  Variables: Partial<WebVariables>;
}
export type WebContext = Context<WebEnv>;

/**
 * Headers for every page: a strict CSP (no script but the passkey script, allowed by its hash; fetches only to
 * Archway; styles only from Archway, forms only to Archway and the
 * upstream SSO providers), no framing, no sniffing, no referrer beyond the origin, and no caching of pages that
 * show personal data.
 */
export function pageHeaders(formTargets: readonly string[]): MiddlewareHandler<WebEnv> {
  const headers = pageHeaderValues(formTargets);
  return async (c, next) => {
    await next();
    for (const [name, value] of headers) c.header(name, value);
  };
}

/**
 * The headers {@link pageHeaders} sets, for a page answered by a handler that the middleware is not in front of
 * (the IdP's logout endpoint also answers in JSON and with redirects, and its form's origins vary per request).
 * `formTargets` are origins a form may be sent to, including where its answer redirects (browsers hold redirects
 * after a form submission to `form-action`).
 */
export function pageHeaderValues(formTargets: readonly string[]): readonly (readonly [string, string])[] {
  const formAction = ["'self'", ...formTargets].join(" ");
  const csp = [
    "default-src 'none'",
    `script-src ${PASSKEY_SCRIPT_HASH}`,
    "connect-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
  return [
    ["content-security-policy", csp],
    ["x-frame-options", "DENY"],
    ["x-content-type-options", "nosniff"],
    ["referrer-policy", "same-origin"],
    ["cache-control", "no-store"],
  ];
}

/** Pages: the signed-in person, or a redirect to `/login?return_to=<this page>`. */
export function requirePage(deps: Pick<WebDeps, "sessions">): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const session = await deps.sessions.read(c);
    if (!session) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?return_to=${encodeURIComponent(url.pathname + url.search)}`, 303);
    }
    c.set("person", {
      identity: session.identity,
      sessionId: session.sessionId,
      via: "session",
      ...(session.amr ? { amr: session.amr } : {}),
    });
    await next();
  };
}

/**
 * `/api/v1/`: the session cookie (state-changing calls must then echo the CSRF token in `X-CSRF-Token`) or an
 * Archway bearer token (`Authorization: Bearer` or `X-Auth-Token`, as the facade issues them).
 */
export function requireApi(deps: Pick<WebDeps, "sessions" | "tokens" | "tokenSessions">): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const bearer = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? c.req.header("x-auth-token");
    if (bearer) {
      const claims = await deps.tokens.verify(bearer, { audience: FACADE_AUDIENCE });
      const login = typeof claims.sid === "string" ? await deps.tokenSessions.session(claims.sid) : null;
      if (!login) throw new ArchwayError("session_ended", "the session behind this token has ended", 401);
      c.set("person", {
        identity: login.identity,
        via: "bearer",
        tokenProject: typeof claims.prj === "string" ? claims.prj : null,
        amr: login.amr,
      });
      return next();
    }
    const session = await deps.sessions.read(c);
    if (!session) throw new ArchwayError("unauthenticated", "sign in, or send an Archway token", 401);
    if (!["GET", "HEAD"].includes(c.req.method) && !deps.sessions.checkCsrf(session, c.req.header("x-csrf-token")))
      throw new ArchwayError("csrf_failed", "X-CSRF-Token is missing or does not match this session", 403);
    c.set("person", {
      identity: session.identity,
      sessionId: session.sessionId,
      via: "session",
      ...(session.amr ? { amr: session.amr } : {}),
    });
    await next();
  };
}

/** The strength of the signed-in person's session, for policy (grants that wait on a second factor). */
export function sessionStrength(c: WebContext): SessionStrength {
  return { mfa: satisfiesMfa(person(c).amr) };
}

/** Admin POSTs that only read (the explain form queries the directory, so it is a CSRF-protected POST). */
const READING_POSTS = new Set(["/admin/explain"]);

/**
 * Admin routes: 403 for anyone `web.admins` does not name, except that `web.auditors` may read (GET, HEAD, and the
 * POSTs that only read). Every other request is an action and is refused to an auditor here, whatever the page
 * showed; several routers' guards may run for one path, and they all agree.
 */
export function requireAdmin(deps: Pick<WebDeps, "isAdmin" | "isAuditor">): MiddlewareHandler<WebEnv> {
  return async (c, next) => {
    const role = adminRole(deps, person(c).identity);
    if (role === "admin") return next();
    const method = c.req.method;
    const reads = method === "GET" || method === "HEAD" || (method === "POST" && READING_POSTS.has(c.req.path));
    if (role === "auditor" && reads) return next();
    if (role === "auditor")
      throw new ArchwayError("forbidden", "web.auditors may look at the admin pages but not act on them", 403);
    throw new ArchwayError("forbidden", "this page is for the operators named in web.admins", 403);
  };
}

/** The signed-in person (set by {@link requirePage} or {@link requireApi}). */
export function person(c: WebContext): WebVariables["person"] & { identity: Identity } {
  const p = c.get("person");
  if (!p) throw new ArchwayError("unauthenticated", "sign in first", 401);
  return p;
}

const CsrfOnly = z.object({ csrf: z.string().min(1) });

/**
 * Reads a form post of the signed-in person: the CSRF token must match their session (403 otherwise), then the
 * fields are validated with `schema` (400 with the first problem).
 */
export async function readForm<S extends z.ZodType>(
  c: WebContext,
  deps: Pick<WebDeps, "sessions">,
  schema: S,
): Promise<z.infer<S>> {
  const body = await c.req.parseBody();
  const csrf = CsrfOnly.safeParse(body);
  const p = person(c);
  if (!csrf.success || !p.sessionId || !deps.sessions.checkCsrf({ sessionId: p.sessionId }, csrf.data.csrf))
    throw new ArchwayError("csrf_failed", "this form has expired or did not come from Archway; reload and retry", 403);
  return parseFields(body, schema);
}

/** Validates form fields with `schema`; a failure is a 400 naming the field. */
export function parseFields<S extends z.ZodType>(body: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ArchwayError("invalid_form", `${issue?.path.join(".") || "form"}: ${issue?.message ?? "invalid"}`, 400);
  }
  return parsed.data;
}
