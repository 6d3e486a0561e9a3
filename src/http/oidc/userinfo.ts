import type { Context } from "hono";
import { isArchwayError, STORE_UNAVAILABLE } from "../../errors.js";
import type { AppEnv } from "../env.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError, oauthEndpoint } from "./errors.js";

/** The claims each scope releases (OpenID Connect Core 5.4; `groups` is Archway's own). */
const SCOPE_CLAIMS: ReadonlyMap<string, readonly string[]> = new Map([
  ["profile", ["preferred_username", "name"]],
  ["email", ["email"]],
  ["groups", ["groups"]],
]);

/**
 * `GET|POST /oauth2/userinfo` (OpenID Connect Core 5.3): the claims of a person's access token that its granted
 * scopes release (`profile`, `email`, `groups`), for any audience Archway issues. Stateless apart from the revocation check: the token already carries what policy computed.
 */
export function userinfoEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const token = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new OAuthError("invalid_token", "a Bearer access token is required", 401);
    let claims: Awaited<ReturnType<typeof deps.tokens.verify>>;
    try {
      claims = await deps.tokens.verify(token, { audience: deps.issue.audiences() });
    } catch (err) {
      if (isArchwayError(err) && err.code !== STORE_UNAVAILABLE)
        throw new OAuthError("invalid_token", err.message, 401);
      throw err;
    }
    if (claims.sub === claims.client_id) throw new OAuthError("invalid_token", "a client's own token has no user", 401);
    // Only what the granted scopes release: the access token carries more (a cloud's mapping reads its groups).
    const out: Record<string, unknown> = { sub: claims.sub };
    const scopes = typeof claims.scope === "string" ? claims.scope.split(" ") : [];
    for (const scope of scopes)
      for (const k of SCOPE_CLAIMS.get(scope) ?? []) if (claims[k] !== undefined) out[k] = claims[k];
    c.header("cache-control", "no-store");
    return c.json(out);
  });
}
