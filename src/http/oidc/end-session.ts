import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { decodeJwt } from "jose";
import { z } from "zod";
import type { AppEnv } from "../env.js";
import { pageHeaderValues, renderPage, type WebSession } from "../web/index.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError, oauthEndpoint } from "./errors.js";
import { confirmLogoutPage, type LogoutReturn, notSignedInPage, signedOutPage } from "./logout-page.js";
import { readParams } from "./params.js";

/** The parameters Archway reads; others (`ui_locales`, `logout_hint`) are ignored, as the spec allows. */
const LogoutParams = z.object({
  id_token_hint: z.string().max(8192).optional(),
  client_id: z.string().max(128).optional(),
  post_logout_redirect_uri: z.string().max(2048).optional(),
  state: z.string().max(1024).optional(),
  /** Only the confirmation form's POST carries it. */
  csrf: z.string().max(200).optional(),
});

/**
 * `GET|POST /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0). A request whose `id_token_hint` is an ID
 * token Archway issued to the person signed in in this browser ends the session at once; any other request (any
 * page can make a browser load this URL) gets a "Sign out of Archway?" page whose form, POSTed back with the
 * session's CSRF token, ends it. Afterwards the browser goes to `post_logout_redirect_uri` only when it is
 * registered for the client named by `client_id` or by the hint (whose signature must be Archway's; an expired hint
 * is fine, as the spec allows). Without a session nothing is ended, and the page says so.
 */
export function endSessionEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const parsed = LogoutParams.safeParse(await readParams(c));
    if (!parsed.success) throw new OAuthError("invalid_request", "a logout parameter is too long");
    const p = parsed.data;
    const hint = p.id_token_hint ? await verifyHint(deps, p.id_token_hint) : undefined;
    if (p.id_token_hint && !hint)
      throw new OAuthError("invalid_request", "id_token_hint is not an ID token Archway issued");
    if (hint && p.client_id && p.client_id !== hint.clientId)
      throw new OAuthError("invalid_request", "client_id differs from the hint");
    const clientId = hint?.clientId ?? p.client_id;
    const client = clientId ? deps.clients.get(clientId) : undefined;
    let back: LogoutReturn | undefined;
    if (p.post_logout_redirect_uri) {
      if (!client?.postLogoutRedirectUris.includes(p.post_logout_redirect_uri))
        throw new OAuthError("invalid_request", "post_logout_redirect_uri is not registered for the client");
      const url = new URL(p.post_logout_redirect_uri);
      if (p.state !== undefined) url.searchParams.set("state", p.state);
      back = { url: url.toString(), clientName: client.name ?? client.id };
    }
    c.header("cache-control", "no-store");

    const session = await deps.web.read(c);
    if (!session) return showPage(c, notSignedInPage(back));
    if (hint && hint.subject === session.identity.id) return signOut(c, deps, session, clientId, back, "id_token_hint");
    // The CSRF token is accepted only in a POST body: in a URL it would end up in logs and Referer headers.
    const confirmed = c.req.method === "POST" && p.csrf !== undefined;
    if (confirmed && deps.web.checkCsrf(session, p.csrf)) return signOut(c, deps, session, clientId, back, "confirmed");
    const confirm = confirmLogoutPage({
      user: { username: session.identity.username, isAdmin: false, csrf: deps.web.csrfToken(session) },
      clientName: client ? (client.name ?? client.id) : undefined,
      fields: {
        client_id: client?.id,
        post_logout_redirect_uri: back ? p.post_logout_redirect_uri : undefined,
        state: back ? p.state : undefined,
      },
      expired: confirmed,
    });
    // The confirmed form's answer redirects to the client: browsers hold that redirect to the page's form-action.
    return showPage(c, confirm, confirmed ? 403 : 200, back ? [new URL(back.url).origin] : []);
  });
}

async function signOut(
  c: Context<AppEnv>,
  deps: OidcProviderDeps,
  session: WebSession,
  clientId: string | undefined,
  back: LogoutReturn | undefined,
  via: "id_token_hint" | "confirmed",
): Promise<Response> {
  await deps.web.end(c);
  await deps.audit({ type: "oauth.logout", actor: session.identity.id, client: clientId, via });
  if (!back) return showPage(c, signedOutPage());
  return c.redirect(back.url, 303);
}

/** A page with the headers of every Archway page (strict CSP, no framing, no caching). */
function showPage(
  c: Context<AppEnv>,
  page: Child,
  status: ContentfulStatusCode = 200,
  formTargets: readonly string[] = [],
): Promise<Response> {
  for (const [name, value] of pageHeaderValues(formTargets)) c.header(name, value);
  return renderPage(c, page, status);
}

/** The client and person of an ID token Archway signed (expiry ignored), or undefined. */
async function verifyHint(
  deps: OidcProviderDeps,
  hint: string,
): Promise<{ clientId: string; subject: string } | undefined> {
  let aud: unknown;
  try {
    aud = decodeJwt(hint).aud;
  } catch {
    return undefined;
  }
  if (typeof aud !== "string" || !deps.clients.get(aud)) return undefined;
  const claims = await deps.tokens.verifyIgnoringExpiry(hint, { audience: aud, type: "JWT" });
  return claims ? { clientId: aud, subject: claims.sub } : undefined;
}
