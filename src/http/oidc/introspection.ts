import type { Context } from "hono";
import type { IdpClient } from "../../config/index.js";
import { unlessStoreUnavailable } from "../../errors.js";
import type { AppEnv } from "../env.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError, oauthEndpoint } from "./errors.js";
import { authenticateClient, readParams } from "./params.js";

/**
 * `POST /oauth2/introspect` (RFC 7662) for confidential clients: whether a token is active and what it grants.
 * A client learns only about tokens issued to it, or to the clients it serves as a resource server (its
 * `introspects` list): any other token, and anything invalid, expired, revoked or unknown, is `{ "active": false }`
 * and nothing more.
 */
export function introspectionEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const params = await readParams(c);
    const client = await authenticateClient(c, params, deps.clients);
    if (client.public) throw new OAuthError("invalid_client", "public clients cannot introspect tokens", 401);
    const token = params.token ?? "";
    c.header("cache-control", "no-store");
    if (token.includes(".")) {
      const claims = await deps.tokens
        .verify(token, { audience: deps.issue.audiences() })
        .catch(unlessStoreUnavailable(null));
      if (!claims || !mayIntrospect(client, claims.client_id)) return c.json({ active: false });
      return c.json({
        active: true,
        token_type: "Bearer",
        iss: claims.iss,
        sub: claims.sub,
        aud: claims.aud,
        client_id: claims.client_id,
        scope: claims.scope,
        username: claims.preferred_username,
        ...(claims.amr !== undefined ? { amr: claims.amr } : {}),
        ...(claims.acr !== undefined ? { acr: claims.acr } : {}),
        exp: claims.exp,
        iat: claims.iat,
        nbf: claims.nbf,
        jti: claims.jti,
      });
    }
    const refresh = token ? await deps.refresh.inspect(token) : null;
    if (!refresh?.active || !mayIntrospect(client, refresh.clientId)) return c.json({ active: false });
    if (refresh.sid && !(await deps.sessions.alive(refresh.sid))) return c.json({ active: false });
    return c.json({
      active: true,
      token_type: "refresh_token",
      iss: deps.issuer,
      sub: refresh.identity.id,
      client_id: refresh.clientId,
      scope: refresh.scope.join(" "),
      username: refresh.identity.username,
      exp: Math.floor(refresh.expiresAt / 1000),
    });
  });
}

/** Whether `client` may learn about a token issued to `owner`: its own, or a client it serves. */
function mayIntrospect(client: IdpClient, owner: unknown): boolean {
  return typeof owner === "string" && (owner === client.id || client.introspects.includes(owner));
}
