import type { Context } from "hono";
import { decodeJwt } from "jose";
import type { AppEnv } from "../env.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError, oauthEndpoint } from "./errors.js";
import { readParams } from "./params.js";

/**
 * `GET|POST /oauth2/logout` (OpenID Connect RP-Initiated Logout): ends the browser's Archway session, then goes to
 * `post_logout_redirect_uri` only when it is registered for the client named by `client_id` or by the
 * `id_token_hint` (whose signature must be Archway's; an expired hint is fine, as the spec allows).
 */
export function endSessionEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const p = await readParams(c);
    let clientId = p.client_id;
    if (p.id_token_hint) {
      const hinted = await hintClient(deps, p.id_token_hint);
      if (!hinted) throw new OAuthError("invalid_request", "id_token_hint is not an ID token Archway issued");
      if (clientId && clientId !== hinted) throw new OAuthError("invalid_request", "client_id differs from the hint");
      clientId = hinted;
    }
    let target: string | undefined;
    if (p.post_logout_redirect_uri) {
      const client = clientId ? deps.clients.get(clientId) : undefined;
      if (!client?.postLogoutRedirectUris.includes(p.post_logout_redirect_uri))
        throw new OAuthError("invalid_request", "post_logout_redirect_uri is not registered for the client");
      target = p.post_logout_redirect_uri;
    }
    const session = await deps.web.read(c);
    await deps.web.end(c);
    if (session) await deps.audit({ type: "oauth.logout", actor: session.identity.id, client: clientId });
    c.header("cache-control", "no-store");
    if (!target) return c.text("You are signed out of Archway.");
    const url = new URL(target);
    if (p.state !== undefined) url.searchParams.set("state", p.state);
    return c.redirect(url.toString(), 303);
  });
}

/** The client an ID token was issued to, when Archway signed it (expiry ignored). */
async function hintClient(deps: OidcProviderDeps, hint: string): Promise<string | undefined> {
  let aud: unknown;
  try {
    aud = decodeJwt(hint).aud;
  } catch {
    return undefined;
  }
  if (typeof aud !== "string" || !deps.clients.get(aud)) return undefined;
  return (await deps.tokens.verifyIgnoringExpiry(hint, { audience: aud, type: "JWT" })) ? aud : undefined;
}
