import type { Context } from "hono";
import type { IdpClient } from "../../config/index.js";
import type { AppEnv } from "../env.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError } from "./errors.js";
import { grantedScope, type Params, readParams } from "./params.js";
import { resourceCloud } from "./token.js";

/**
 * `GET|POST /oauth2/authorize`: the authorization code flow. Until the client and its redirect URI are known to be
 * right, errors are shown here and never redirected (no open redirect); after that they go back to the client with
 * `error`, `state` and `iss` (RFC 9207). PKCE S256 is required for every client unless a confidential client's
 * configuration says `pkce: optional` (OAuth 2.1); `plain` is refused.
 */
export function authorizeEndpoint(deps: OidcProviderDeps) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    let params: Params;
    try {
      params = await readParams(c);
    } catch (err) {
      if (err instanceof OAuthError) return showError(c, err.description);
      throw err;
    }
    const client = params.client_id ? deps.clients.get(params.client_id) : undefined;
    if (!client) return showError(c, "unknown client_id: the application is not registered with Archway");
    const redirectUri = params.redirect_uri ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (!redirectUri || !client.redirectUris.includes(redirectUri))
      return showError(c, "redirect_uri is missing or not registered for this client");
    try {
      return await authorize(c, deps, client, params, redirectUri);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return redirectBack(c, redirectUri, { error: err.error, error_description: err.description }, params.state, deps);
    }
  };
}

async function authorize(
  c: Context<AppEnv>,
  deps: OidcProviderDeps,
  client: IdpClient,
  p: Params,
  redirectUri: string,
): Promise<Response> {
  if (p.request !== undefined || p.request_uri !== undefined)
    throw new OAuthError("request_not_supported", "request objects are not supported");
  if (p.response_type !== "code")
    throw new OAuthError("unsupported_response_type", "only response_type=code is supported");
  if (!client.grants.includes("authorization_code"))
    throw new OAuthError("unauthorized_client", `client ${client.id} may not use the authorization code flow`);
  if (p.code_challenge !== undefined) {
    if ((p.code_challenge_method ?? "plain") !== "S256")
      throw new OAuthError("invalid_request", "code_challenge_method must be S256");
    if (!/^[A-Za-z0-9_-]{43}$/.test(p.code_challenge))
      throw new OAuthError("invalid_request", "code_challenge must be a base64url SHA-256 digest");
  } else if (client.public) {
    throw new OAuthError("invalid_request", "public clients must use PKCE (code_challenge with S256)");
  } else if (client.pkce === "required") {
    // OAuth 2.1: a confidential client's secret does not stop an injected or stolen code; PKCE does.
    throw new OAuthError(
      "invalid_request",
      `client ${client.id} must use PKCE (code_challenge with S256); an operator can set pkce: optional for it`,
    );
  }
  const scope = grantedScope(p.scope, client);
  const cloudId = resourceCloud(deps, client, p.resource);
  const prompts = new Set((p.prompt ?? "").split(" ").filter(Boolean));
  if (prompts.has("none") && prompts.size > 1) throw new OAuthError("invalid_request", "prompt=none stands alone");

  const session = await deps.web.read(c);
  const maxAge = p.max_age !== undefined ? Number(p.max_age) : undefined;
  if (maxAge !== undefined && !(Number.isInteger(maxAge) && maxAge >= 0))
    throw new OAuthError("invalid_request", "max_age must be a non-negative integer");
  // max_age=0 always asks again (as prompt=login), even within the second of the last sign-in.
  const stale =
    maxAge !== undefined && !!session && (maxAge === 0 || Math.floor(Date.now() / 1000) - session.authTime > maxAge);
  if (!session || stale || prompts.has("login")) {
    if (prompts.has("none")) throw new OAuthError("login_required", "the person is not signed in");
    // Re-authentication asks the login page to sign in again (`prompt=login` there) but ends nothing: the current
    // session goes on until the new sign-in succeeds. Back here afterwards without prompt and max_age (or it would
    // loop); the ID token's auth_time tells the client when the person signed in.
    const again = new URL(c.req.url);
    again.search = "";
    for (const [k, v] of Object.entries(p)) if (k !== "prompt" && k !== "max_age") again.searchParams.set(k, v);
    const force = session ? "&prompt=login" : "";
    return c.redirect(`/login?return_to=${encodeURIComponent(again.pathname + again.search)}${force}`, 303);
  }
  const code = await deps.codes.issue({
    clientId: client.id,
    identity: session.identity,
    scope,
    cloudId,
    authTime: session.authTime,
    ...(session.sid ? { sid: session.sid, sessionEnd: session.sessionEnd } : {}),
    ...(session.amr ? { amr: session.amr } : {}),
    redirectUri,
    ...(p.nonce ? { nonce: p.nonce } : {}),
    ...(p.code_challenge ? { codeChallenge: p.code_challenge } : {}),
  });
  await deps.audit({ type: "oauth.authorized", actor: session.identity.id, client: client.id, cloud: cloudId });
  return redirectBack(c, redirectUri, { code }, p.state, deps);
}

function redirectBack(
  c: Context,
  redirectUri: string,
  values: Record<string, string>,
  state: string | undefined,
  deps: OidcProviderDeps,
): Response {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v);
  if (state !== undefined) url.searchParams.set("state", state);
  url.searchParams.set("iss", deps.issuer);
  c.header("cache-control", "no-store");
  return c.redirect(url.toString(), 303);
}

/** An error shown to the person, not sent to the client: the redirect target cannot be trusted. */
function showError(c: Context, message: string): Response {
  c.header("cache-control", "no-store");
  c.header("x-content-type-options", "nosniff");
  return c.text(`Archway cannot continue this sign-in: ${message}.`, 400);
}
