import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { Audit } from "../../audit/index.js";
import { isArchwayError, retryAfterOf, STORE_UNAVAILABLE } from "../../errors.js";
import {
  type Identity,
  type LoginGuard,
  type MfaService,
  type PasswordSource,
  satisfiesMfa,
} from "../../identity/index.js";
import type { CompiledPolicySet, SessionStrength } from "../../policy/index.js";
import {
  type ArchwayClaims,
  type Entitlements,
  entitlementsOf,
  FACADE_AUDIENCE,
  type IdentitySessions,
  type ProjectScope,
  type TokenService,
} from "../../tokens/index.js";
import { type AppEnv, noteRequest } from "../env.js";
import type { CloudCatalogs } from "./catalog.js";
import { keystoneError } from "./shapes.js";

/** The audience of tokens the facade issues; the proxy accepts the same (defined in tokens/, for OAuth too). */
export { FACADE_AUDIENCE };

/** What the facade needs. */
export interface FacadeDeps {
  publicUrl: string;
  tokens: TokenService;
  sessions: IdentitySessions;
  guard: LoginGuard;
  /** Second factors: Keystone-style auth receipts and the `totp` method (docs/mfa.md). */
  mfa?: MfaService;
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
  /** How the token's session was authenticated (RFC 8176 values). */
  amr: readonly string[];
  /** Every project the person holds now (listings, re-scoping). */
  entitlements: Entitlements;
  /** The project the token names: the only one it acts as. Absent for an unscoped token, which reaches no cloud. */
  scoped?: ProjectScope;
}

// Entitlements per session for a few seconds: evaluation is cheap, but a validation storm should not repeat it. The
// lookups by id and name are built with them, so a request only does Map lookups. A session's strength (its `amr`)
// never changes, so the session id keys both.
const recentEntitlements = new WeakMap<CompiledPolicySet, Map<string, { until: number; entitlements: Entitlements }>>();

function entitlementsFor(
  identity: Identity,
  policies: CompiledPolicySet,
  sid: string,
  strength: SessionStrength,
): Entitlements {
  let bySession = recentEntitlements.get(policies);
  if (!bySession) {
    bySession = new Map();
    recentEntitlements.set(policies, bySession);
  }
  const now = Date.now();
  const hit = bySession.get(sid);
  if (hit && hit.until > now) return hit.entitlements;
  const entitlements = entitlementsOf(identity, policies, strength);
  if (bySession.size >= 10_000) bySession.clear();
  bySession.set(sid, { until: now + 5_000, entitlements });
  return entitlements;
}

/** A failure the facade answers in Keystone's shape. */
export class KeystoneHttpError extends Error {
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
  /** The request acting with the token: its access-log line names the person. */
  c?: Pick<Context, "env">,
): Promise<FacadeCaller> {
  if (!token) throw new KeystoneHttpError(401, "The request you have made requires authentication.");
  let claims: ArchwayClaims;
  try {
    claims = await deps.tokens.verify(token, { audience: FACADE_AUDIENCE });
  } catch (err) {
    // A store that cannot answer says nothing about the token: a 503, never a 401 that makes clients drop it.
    if (isArchwayError(err) && err.code === STORE_UNAVAILABLE) throw err;
    throw new KeystoneHttpError(
      401,
      isArchwayError(err) ? err.message : "The request you have made requires authentication.",
    );
  }
  const sid = claims.sid;
  const session =
    typeof sid === "string" ? (deps.sessions.recentSession(sid) ?? (await deps.sessions.session(sid))) : null;
  if (!session) throw new KeystoneHttpError(401, "the session behind this token has ended");
  const identity = session.identity;
  if (c) noteRequest(c, { person: identity.id });
  // The session's strength, never the token's claim: a token carries its session's amr but cannot add to it.
  const strength = { mfa: satisfiesMfa(session.amr) };
  const entitlements = entitlementsFor(identity, deps.policies(), session.sid, strength);
  const scoped = typeof claims.prj === "string" ? entitlements.byId(claims.prj) : undefined;
  if (typeof claims.prj === "string" && !scoped)
    throw new KeystoneHttpError(401, "the project of this token is no longer granted to you");
  return { claims, identity, amr: session.amr, entitlements, scoped };
}

/** A facade route handler. */
export type FacadeHandler = (c: Context<AppEnv>) => Response | Promise<Response>;

/**
 * Answers failures of `handler` in Keystone's shape; anything else goes on to the app's error handler. A wrapper
 * per route rather than the sub-app's `onError`: Hono's `route()` runs a sub-app's error handler through an
 * extra `compose` on every request.
 */
export function keystoneErrors(handler: FacadeHandler): FacadeHandler {
  // Not an async wrapper: the handler's own promise gets the catch, one promise less per request.
  return (c) => {
    try {
      const res = handler(c);
      return res instanceof Promise ? res.catch((err: unknown) => keystoneFailure(c, err)) : res;
    } catch (err) {
      return keystoneFailure(c, err);
    }
  };
}

/** The Keystone-shaped answer to a failure, or the failure rethrown for the app's error handler. */
function keystoneFailure(c: Context<AppEnv>, err: unknown): Response {
  if (err instanceof KeystoneHttpError) return c.json(keystoneError(err.status, err.message), err.status);
  const unavailable = keystoneStoreUnavailable(err);
  if (unavailable) return unavailable;
  if (isArchwayError(err)) return c.json(keystoneError(err.status, err.message), err.status as ContentfulStatusCode);
  if (err instanceof SyntaxError) return c.json(keystoneError(400, "request body is not valid JSON"), 400);
  throw err;
}

/**
 * Keystone's shape for a store outage: 503 with `Retry-After`, the Archway code riding along as `identifier` (the
 * shape's own `code` is numeric); undefined for any other failure.
 */
export function keystoneStoreUnavailable(err: unknown): Response | undefined {
  const retryAfter = retryAfterOf(err);
  if (retryAfter === undefined || !isArchwayError(err)) return undefined;
  return new Response(JSON.stringify({ error: { ...keystoneError(503, err.message).error, identifier: err.code } }), {
    status: 503,
    headers: { "content-type": "application/json", "retry-after": retryAfter },
  });
}

/** A JSON answer that keeps the fast path of the Node server (one header, the content type). */
export function jsonText(c: Context<AppEnv>, json: string, status: ContentfulStatusCode): Response {
  return c.body(json, status, { "Content-Type": "application/json" });
}
