import { createHash } from "node:crypto";
import type { Context } from "hono";
import type { IdpClient } from "../../config/index.js";
import { isArchwayError } from "../../errors.js";
import { retryAfterOf } from "../../identity/index.js";
import { FACADE_AUDIENCE, type Grant } from "../../tokens/index.js";
import { type AppEnv, clientIp, setResponseHeader } from "../env.js";
import { safeEqual } from "../safe-equal.js";
import type { OidcProviderDeps } from "./deps.js";
import { OAuthError, oauthEndpoint } from "./errors.js";
import { authenticateClient, grantedScope, type Params, readParams } from "./params.js";

const DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";

/** What the token endpoint answers (RFC 6749 section 5.1, plus `id_token`). */
interface TokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * `POST /oauth2/token`: authorization_code (PKCE), refresh_token (rotation, reuse detection), password (for
 * keystoneauth's `v3oidcpassword`), client_credentials and the device code grant. Every grant must be allowed for
 * the client in the configuration.
 */
export function tokenEndpoint(deps: OidcProviderDeps) {
  return oauthEndpoint(async (c: Context<AppEnv>) => {
    const params = await readParams(c);
    const client = await authenticateClient(c, params, deps.clients);
    const grantType = params.grant_type;
    if (!grantType) throw new OAuthError("invalid_request", "grant_type is required");
    if (!(client.grants as string[]).includes(grantType))
      throw new OAuthError("unauthorized_client", `client ${client.id} may not use the ${grantType} grant`);
    let body: TokenResponse;
    switch (grantType) {
      case "authorization_code":
        body = await authorizationCode(deps, client, params);
        break;
      case "refresh_token":
        body = await refreshToken(deps, client, params);
        break;
      case "password":
        body = await password(deps, client, params, clientIp(c), (s) => setResponseHeader(c, "retry-after", String(s)));
        break;
      case "client_credentials":
        body = await clientCredentials(deps, client, params);
        break;
      case DEVICE_GRANT:
        body = await deviceCode(deps, client, params);
        break;
      default:
        throw new OAuthError("unsupported_grant_type", `grant_type ${grantType} is not supported`);
    }
    // On Node's response directly: with only Content-Type left, Hono's reply stays on the server's fast path.
    setResponseHeader(c, "cache-control", "no-store");
    setResponseHeader(c, "pragma", "no-cache");
    return c.json(body);
  });
}

async function authorizationCode(deps: OidcProviderDeps, client: IdpClient, p: Params): Promise<TokenResponse> {
  if (!p.code) throw new OAuthError("invalid_request", "code is required");
  const redeemed = await deps.codes.redeem(p.code);
  if (redeemed.kind === "unknown") throw new OAuthError("invalid_grant", "the code is unknown or expired");
  if (redeemed.kind === "replayed") {
    // A code used twice was stolen: revoke what the first use produced (RFC 6749 section 4.1.2).
    if (redeemed.issued) {
      await deps.tokens.revoke(
        { jti: redeemed.issued.jti, exp: redeemed.issued.expiresAt, sid: redeemed.issued.sid },
        "oauth:code-replay",
      );
      if (redeemed.issued.family) await deps.refresh.revokeFamily(redeemed.issued.family);
      if (redeemed.issued.offlineSid)
        await deps.sessions.end(redeemed.issued.offlineSid, "authorization code replayed");
    }
    await deps.audit({ type: "oauth.code_replayed", client: client.id });
    throw new OAuthError("invalid_grant", "the code was already used; the tokens it produced are revoked");
  }
  const grant = redeemed.grant;
  if (grant.clientId !== client.id) throw new OAuthError("invalid_grant", "the code was issued to another client");
  if (p.redirect_uri !== grant.redirectUri)
    throw new OAuthError("invalid_grant", "redirect_uri differs from the one of the authorization request");
  if (grant.codeChallenge !== undefined) {
    if (!p.code_verifier) throw new OAuthError("invalid_grant", "code_verifier is required (PKCE)");
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(p.code_verifier))
      throw new OAuthError("invalid_grant", "code_verifier must be 43-128 characters of [A-Za-z0-9._~-]");
    const computed = createHash("sha256").update(p.code_verifier).digest("base64url");
    if (!safeEqual(computed, grant.codeChallenge)) throw new OAuthError("invalid_grant", "PKCE verification failed");
  } else if (p.code_verifier !== undefined) {
    throw new OAuthError("invalid_grant", "code_verifier sent but the authorization request had no code_challenge");
  } else if (client.pkce === "required" || client.public) {
    // Only a code made before the client's PKCE requirement (or a bug at /authorize) gets here.
    throw new OAuthError("invalid_grant", "the code was issued without PKCE, which this client must use");
  }
  await requireSession(deps, grant);
  const response = await respond(deps, client, grant);
  await deps.codes.recordIssued(redeemed.digest, response.issued);
  return response.body;
}

async function refreshToken(deps: OidcProviderDeps, client: IdpClient, p: Params): Promise<TokenResponse> {
  if (!p.refresh_token) throw new OAuthError("invalid_request", "refresh_token is required");
  const asked = p.scope?.split(" ").filter(Boolean);
  // Both checks run before the token is spent: a refused refresh leaves it usable.
  const rotated = await deps.refresh.rotate(p.refresh_token, client.id, async (grant) => {
    if (asked?.some((s) => !grant.scope.includes(s)))
      return { kind: "invalid_scope", reason: "a refresh cannot widen the scope of the original grant" };
    if (grant.sid && !(await deps.sessions.alive(grant.sid)))
      return { kind: "invalid", reason: "the session this refresh token belongs to has ended" };
    return undefined;
  });
  if (rotated.kind === "reused") {
    if (rotated.grant.offline && rotated.grant.sid) await deps.sessions.end(rotated.grant.sid, "refresh token reused");
    await deps.audit({ type: "oauth.refresh_reused", client: client.id, family: rotated.family });
    throw new OAuthError("invalid_grant", "the refresh token was already used; every token of its family is revoked");
  }
  if (rotated.kind === "invalid_scope") throw new OAuthError("invalid_scope", rotated.reason);
  if (rotated.kind === "invalid") throw new OAuthError("invalid_grant", rotated.reason);
  const { grant } = rotated;
  const scope = asked ?? grant.scope;
  const identity = await relookup(deps, grant.identity);
  if (!identity) {
    await deps.refresh.revokeFamily(grant.family);
    if (grant.offline && grant.sid) await deps.sessions.end(grant.sid, "person left the directory");
    throw new OAuthError("invalid_grant", "the person no longer exists in their directory");
  }
  const { body } = await respond(deps, client, { ...grant, identity, scope, nonce: undefined }, rotated.token);
  return body;
}

async function password(
  deps: OidcProviderDeps,
  client: IdpClient,
  p: Params,
  ip: string,
  retryAfter: (seconds: number) => void,
): Promise<TokenResponse> {
  if (!p.username || p.password === undefined)
    throw new OAuthError("invalid_request", "username and password are required");
  const source = deps.passwordSources[0];
  if (!source) throw new OAuthError("unsupported_grant_type", "no password identity source is configured");
  const cloudId = resourceCloud(deps, client, p.resource);
  try {
    const identity = await deps.guard.login(source, p.username, p.password, ip);
    // A password alone cannot pass a second factor: people for whom one applies use the device flow, whose
    // approval page signs in with both (docs/mfa.md).
    if (deps.mfa && (await deps.mfa.secondStep(identity)) !== "none") {
      await deps.audit({ type: "login.refused", actor: identity.id, reason: "mfa_required", grant: "password" });
      throw new OAuthError(
        "invalid_grant",
        "this account needs a second factor, which the password grant cannot carry: use the device authorization grant (urn:ietf:params:oauth:grant-type:device_code) and approve it in a browser",
      );
    }
    // A password grant is a sign-in of its own: its tokens hang off a new login session.
    const session = await deps.sessions.create(identity, { amr: ["pwd"] });
    const grant: Grant = {
      clientId: client.id,
      identity,
      scope: grantedScope(p.scope, client),
      cloudId,
      authTime: Math.floor(Date.now() / 1000),
      sid: session.sid,
      sessionEnd: session.absoluteEnd,
      amr: session.amr,
    };
    return (await respond(deps, client, grant)).body;
  } catch (err) {
    if (!isArchwayError(err)) throw err;
    if (err.code === "login_failed") throw new OAuthError("invalid_grant", "invalid username or password");
    if (err.code === "login_locked") {
      const seconds = retryAfterOf(err);
      if (seconds !== undefined) retryAfter(seconds);
      throw new OAuthError("invalid_grant", err.message);
    }
    throw new OAuthError("temporarily_unavailable", err.message, 503);
  }
}

async function clientCredentials(deps: OidcProviderDeps, client: IdpClient, p: Params): Promise<TokenResponse> {
  const scope = grantedScope(p.scope ?? "", client).filter((s) => s !== "openid" && s !== "offline_access");
  const cloudId = resourceCloud(deps, client, p.resource);
  const access = await deps.issue.accessToken({ clientId: client.id, scope, cloudId });
  return {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: deps.issue.accessTokenTtlSeconds,
    scope: scope.join(" "),
  };
}

async function deviceCode(deps: OidcProviderDeps, client: IdpClient, p: Params): Promise<TokenResponse> {
  if (!p.device_code) throw new OAuthError("invalid_request", "device_code is required");
  const polled = await deps.devices.poll(p.device_code, client.id);
  switch (polled.kind) {
    case "approved":
      await requireSession(deps, polled.grant);
      return (await respond(deps, client, polled.grant)).body;
    case "authorization_pending":
      throw new OAuthError("authorization_pending", "the person has not approved the request yet");
    case "slow_down":
      throw new OAuthError("slow_down", `poll at most every ${deps.config.devicePollSeconds} seconds`);
    case "access_denied":
      throw new OAuthError("access_denied", "the person denied the request");
    case "expired_token":
      throw new OAuthError("expired_token", "the device code expired; start again");
    case "invalid_grant":
      throw new OAuthError("invalid_grant", "unknown or already used device code");
  }
}

/** Refuses a grant whose session has ended (sign-out, an administrator, the person's departure). */
async function requireSession(deps: OidcProviderDeps, grant: Grant): Promise<void> {
  if (grant.sid && !(await deps.sessions.alive(grant.sid)))
    throw new OAuthError("invalid_grant", "the sign-in session this grant was made in has ended");
}

/**
 * Access token, ID token when `openid` was granted, and a refresh token when the client may refresh (a rotation
 * passes the successor in): with `offline_access`, one of a new offline session that outlives the sign-in (listed
 * and revocable on the person's page); without it, only for a client with session-bound refresh tokens.
 */
async function respond(deps: OidcProviderDeps, client: IdpClient, grant: Grant, rotatedRefresh?: string) {
  let access = await deps.issue.accessToken(grant);
  const idToken = grant.scope.includes("openid") ? await deps.issue.idToken(grant) : undefined;
  let refresh: { token: string; family?: string } | undefined;
  let offlineSid: string | undefined;
  if (rotatedRefresh) refresh = { token: rotatedRefresh };
  else if (client.grants.includes("refresh_token") && grant.scope.includes("offline_access")) {
    const offline = await deps.sessions.create(grant.identity, {
      kind: "offline",
      // The offline session keeps the sign-in's strength: its refreshed tokens are no stronger than it was.
      amr: grant.amr ?? [],
      absoluteMs: deps.refresh.lifetimeMs,
      clientId: client.id,
      scope: grant.scope,
      ...(grant.sid ? { parent: grant.sid } : {}),
    });
    offlineSid = offline.sid;
    refresh = await deps.refresh.issue(
      { ...grant, sid: offline.sid, sessionEnd: offline.absoluteEnd },
      { offline: true },
    );
    // A facade token lives in clouds.yaml, beside its refresh token: it hangs off the same offline session, so that
    // revoking the refresh token (`archway login --logout`) ends it too, and signing out of the page does not.
    if (grant.facade)
      access = await deps.issue.accessToken({ ...grant, sid: offline.sid, sessionEnd: offline.absoluteEnd });
  } else if (client.grants.includes("refresh_token") && client.sessionRefreshTokens && grant.sid)
    refresh = await deps.refresh.issue(grant);
  const body: TokenResponse = {
    access_token: access.token,
    token_type: "Bearer",
    expires_in: deps.issue.accessTokenTtlSeconds,
    scope: grant.scope.join(" "),
    ...(refresh ? { refresh_token: refresh.token } : {}),
    ...(idToken ? { id_token: idToken.token } : {}),
  };
  return {
    body,
    issued: { jti: access.jti, expiresAt: access.expiresAt, family: refresh?.family, sid: grant.sid, offlineSid },
  };
}

/**
 * What a device flow's `resource` asks for: Archway's `/v3` facade (`archway:keystone`, for a client with
 * `facade: true`: `archway login`), or one of the client's clouds as {@link resourceCloud} finds it.
 */
export function resourceTarget(
  deps: OidcProviderDeps,
  client: IdpClient,
  resource: string | undefined,
): { cloudId?: string; facade?: true } {
  if (resource !== FACADE_AUDIENCE) return { cloudId: resourceCloud(deps, client, resource) };
  if (!client.facade)
    throw new OAuthError("invalid_target", `client ${client.id} may not get tokens for Archway's /v3 (facade: true)`);
  return { facade: true };
}

/** The cloud a `resource` parameter names among the client's clouds (its first cloud by default). */
export function resourceCloud(deps: OidcProviderDeps, client: IdpClient, resource: string | undefined) {
  if (resource === undefined) return client.clouds[0];
  const cloudId = deps.issue.cloudForResource(resource, client.clouds);
  if (!cloudId) throw new OAuthError("invalid_target", `client ${client.id} may not get tokens for ${resource}`);
  return cloudId;
}

async function relookup(deps: OidcProviderDeps, identity: Grant["identity"]) {
  try {
    const fresh = await deps.relookup(identity);
    return fresh === undefined ? identity : fresh;
  } catch (err) {
    const message = isArchwayError(err) ? err.message : "the directory did not answer";
    throw new OAuthError("temporarily_unavailable", message, 503);
  }
}
