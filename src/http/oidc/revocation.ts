import type { Context } from "hono";
import { unlessStoreUnavailable } from "../../errors.js";
import { FACADE_AUDIENCE } from "../../tokens/index.js";
import type { AppEnv } from "../env.js";
import type { OidcProviderDeps } from "./deps.js";
import { oauthEndpoint } from "./errors.js";
import { authenticateClient, readParams } from "./params.js";

/**
 * `POST /oauth2/revoke` (RFC 7009): a refresh token revokes its whole family; an access token its `jti`. Only the
 * client a token was issued to can revoke it. The answer is 200 whatever the token was, so it tells nothing.
 */
export function revocationEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const params = await readParams(c);
    const client = await authenticateClient(c, params, deps.clients);
    const token = params.token ?? "";
    const refresh = token && !token.includes(".") ? await deps.refresh.inspect(token) : null;
    if (refresh && refresh.clientId === client.id) {
      await deps.refresh.revokeFamily(refresh.family);
      // An offline_access token is its own session: it leaves the person's list with it.
      if (refresh.offline && refresh.sid) await deps.sessions.end(refresh.sid, "refresh token revoked by the client");
      await deps.audit({ type: "oauth.revoked", client: client.id, kind: "refresh_token" });
    } else if (token.includes(".")) {
      const claims = await deps.tokens
        .verify(token, { audience: [...deps.issue.audiences(), FACADE_AUDIENCE] })
        .catch(unlessStoreUnavailable(null));
      if (claims && claims.client_id === client.id) {
        await deps.tokens.revoke(claims, client.id);
        await deps.audit({ type: "oauth.revoked", client: client.id, kind: "access_token" });
      }
    }
    c.header("cache-control", "no-store");
    return c.body(null, 200);
  });
}
