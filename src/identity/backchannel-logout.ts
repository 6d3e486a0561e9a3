import { type JWTVerifyGetKey, jwtVerify } from "jose";
import { ArchwayError } from "../errors.js";
import type { IdentitySource } from "./source.js";

/** The event an OpenID Connect Back-Channel Logout 1.0 logout token must carry. */
export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/** What a verified logout token says: whose upstream session ended (`sub`, `sid` or both) and its own id. */
export interface LogoutClaims {
  sub?: string;
  sid?: string;
  jti: string;
  iat: number;
}

/** An upstream that can tell Archway, server to server, that a person's session ended there. */
export interface BackchannelLogoutSource extends IdentitySource {
  /** Verifies a logout token (see {@link verifyLogoutToken}); throws `ArchwayError("logout_token_invalid")`. */
  verifyLogoutToken(token: string): Promise<LogoutClaims>;
}

export function isBackchannelLogoutSource(s: IdentitySource): s is BackchannelLogoutSource {
  return typeof (s as Partial<BackchannelLogoutSource>).verifyLogoutToken === "function";
}

/**
 * Verifies an OIDC Back-Channel Logout 1.0 logout token: signed with one of the upstream's keys (asymmetric
 * algorithms only), `iss` the upstream, `aud` Archway's client id, `iat` present and recent, a `jti` (the caller
 * refuses a replay), the back-channel logout event, `sub` or `sid`, and no `nonce` (which would make it an ID
 * token passed off as a logout token).
 */
export async function verifyLogoutToken(
  token: string,
  opts: { keys: JWTVerifyGetKey; issuer: string; audience: string; maxAgeSeconds?: number; now?: () => number },
): Promise<LogoutClaims> {
  const invalid = (why: string, cause?: unknown) =>
    new ArchwayError("logout_token_invalid", `logout token refused: ${why}`, 400, { cause });
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, opts.keys, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"],
      requiredClaims: ["iat", "jti"],
      maxTokenAge: opts.maxAgeSeconds ?? 300,
      clockTolerance: 60,
      ...(opts.now ? { currentDate: new Date(opts.now()) } : {}),
    }));
  } catch (err) {
    throw invalid((err as Error).message, err);
  }
  const events = payload.events;
  if (
    !events ||
    typeof events !== "object" ||
    Array.isArray(events) ||
    typeof (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT] !== "object"
  )
    throw invalid("no back-channel logout event");
  if ("nonce" in payload) throw invalid("a logout token carries no nonce");
  const sub = typeof payload.sub === "string" && payload.sub ? payload.sub : undefined;
  const sid = typeof payload.sid === "string" && payload.sid ? payload.sid : undefined;
  if (!sub && !sid) throw invalid("neither sub nor sid");
  if (typeof payload.jti !== "string" || !payload.jti) throw invalid("no jti");
  return { sub, sid, jti: payload.jti, iat: Number(payload.iat) };
}
