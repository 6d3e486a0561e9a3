import { readFileSync } from "node:fs";
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";
import * as oidc from "openid-client";
import { Agent } from "undici";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import { type BackchannelLogoutSource, type LogoutClaims, verifyLogoutToken } from "../backchannel-logout.js";
import { type Identity, identityId } from "../identity.js";
import { upstreamAmr } from "../mfa/strength.js";
import type { RedirectSource, RedirectStart, UpstreamAuth, UpstreamTokens } from "../source.js";
import type { RefreshFailureAction, UpstreamGrantSource } from "../upstream-grant.js";
import type { OidcSourceConfig } from "./schema.js";

const PendingSchema = z
  .object({ state: z.string(), nonce: z.string(), verifier: z.string(), redirectUri: z.string() })
  .strict();

/**
 * An upstream OpenID Provider (the company's SSO): authorization code with PKCE (S256), state and nonce checked
 * by openid-client, claims mapped to an identity (nested claim paths, from the ID token or userinfo), refresh,
 * RP-initiated logout, and back-channel logout (the upstream's logout tokens checked against its JWKS). https is
 * required unless the source explicitly allows http for development.
 */
export class OidcSource implements RedirectSource, BackchannelLogoutSource, UpstreamGrantSource {
  readonly type = "oidc" as const;
  readonly id: string;
  readonly displayName: string;
  readonly formOrigins: readonly string[];
  readonly refreshFailure: RefreshFailureAction;
  readonly #c: OidcSourceConfig;
  readonly #fetch: typeof fetch | undefined;
  readonly #skewSeconds: number;
  #config: Promise<oidc.Configuration> | undefined;
  #keys: JWTVerifyGetKey | undefined;

  constructor(config: OidcSourceConfig, opts: { now?: () => number } = {}) {
    const issuer = new URL(config.issuer);
    if (issuer.protocol !== "https:" && !config.allowInsecureHttp) {
      throw new ArchwayError(
        "config_invalid",
        `identity source ${config.id}: issuer must be https (set allowInsecureHttp only for development)`,
        500,
      );
    }
    this.id = config.id;
    this.displayName = config.displayName ?? config.id;
    this.formOrigins = [issuer.origin];
    this.refreshFailure = config.refreshFailure;
    this.#c = config;
    if (config.caFile) {
      const dispatcher = new Agent({ connect: { ca: readFileSync(config.caFile) } });
      this.#fetch = ((url: string | URL | Request, init?: RequestInit) =>
        fetch(url, { ...init, dispatcher } as RequestInit)) as typeof fetch;
    }
    // openid-client checks token times against its own clock; a test (or a known-skewed host) shifts it.
    this.#skewSeconds = opts.now ? Math.round((opts.now() - Date.now()) / 1000) : 0;
  }

  async beginLogin(opts: { redirectUri: string; prompt?: string }): Promise<RedirectStart> {
    const config = await this.#discover();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: opts.redirectUri,
      scope: this.#c.scopes.join(" "),
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
      ...(opts.prompt ? { prompt: opts.prompt } : {}),
    });
    return { url: url.href, state, pending: JSON.stringify({ state, nonce, verifier, redirectUri: opts.redirectUri }) };
  }

  async completeLogin(
    callbackUrl: URL,
    pending: string,
  ): Promise<{ identity: Identity; tokens: UpstreamTokens; auth: UpstreamAuth }> {
    const p = PendingSchema.parse(JSON.parse(pending));
    const config = await this.#discover();
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: p.verifier,
        expectedState: p.state,
        expectedNonce: p.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      return {
        identity: await this.#identity(config, tokens),
        tokens: keep(tokens),
        auth: {
          amr: upstreamAmr(claims?.amr, claims?.acr, this.#c.strongAcr),
          ...(typeof claims?.acr === "string" ? { acr: claims.acr } : {}),
        },
      };
    } catch (err) {
      throw this.#refused(err);
    }
  }

  async refresh(tokens: UpstreamTokens): Promise<{ identity: Identity; tokens: UpstreamTokens } | null> {
    if (!tokens.refreshToken) return null;
    const config = await this.#discover();
    try {
      const next = await oidc.refreshTokenGrant(config, tokens.refreshToken);
      return { identity: await this.#identity(config, next), tokens: keep(next, tokens) };
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === "invalid_grant") return null;
      throw this.#refused(err);
    }
  }

  /**
   * Renews a kept grant (see {@link UpstreamGrantSource.renew}): only `invalid_grant` is a refusal; a network
   * failure, a 5xx or any other error answer throws `directory_unavailable`, and the caller changes nothing.
   */
  async renew(refreshToken: string): Promise<{ refreshToken: string } | null> {
    const config = await this.#discover();
    try {
      const next = await oidc.refreshTokenGrant(config, refreshToken);
      return { refreshToken: next.refresh_token ?? refreshToken };
    } catch (err) {
      if (err instanceof oidc.ResponseBodyError && err.error === "invalid_grant") return null;
      const e = err as { error?: string; message?: string };
      throw new ArchwayError(
        "directory_unavailable",
        `identity source ${this.id}: the grant could not be renewed (${e.error ?? e.message ?? "unknown"})`,
        503,
        { cause: err },
      );
    }
  }

  async logoutUrl(opts: { idToken?: string; postLogoutRedirectUri: string }): Promise<string | null> {
    const config = await this.#discover();
    if (!config.serverMetadata().end_session_endpoint) return null;
    return oidc
      .buildEndSessionUrl(config, {
        post_logout_redirect_uri: opts.postLogoutRedirectUri,
        ...(opts.idToken ? { id_token_hint: opts.idToken } : {}),
      })
      .toString();
  }

  /** Verifies a back-channel logout token from this upstream (see {@link verifyLogoutToken}). */
  async verifyLogoutToken(token: string): Promise<LogoutClaims> {
    const metadata = (await this.#discover()).serverMetadata();
    if (!metadata.jwks_uri)
      throw new ArchwayError("logout_token_invalid", `identity source ${this.id}: the provider has no jwks_uri`, 400);
    // jose caches the key set and fetches it again for an unknown kid (a rotation), at most every 30 s.
    this.#keys ??= createRemoteJWKSet(new URL(metadata.jwks_uri), this.#fetch ? { [customFetch]: this.#fetch } : {});
    return verifyLogoutToken(token, {
      keys: this.#keys,
      issuer: metadata.issuer,
      audience: this.#c.clientId,
      now: this.#skewSeconds ? () => Date.now() + this.#skewSeconds * 1000 : undefined,
    });
  }

  async ping(): Promise<void> {
    this.#config = undefined; // re-read discovery: readiness must reflect the provider now
    await this.#discover();
  }

  async close(): Promise<void> {}

  #discover(): Promise<oidc.Configuration> {
    this.#config ??= (async () => {
      const options: oidc.DiscoveryRequestOptions = {
        ...(this.#c.allowInsecureHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
        ...(this.#fetch ? { [oidc.customFetch]: this.#fetch } : {}),
      };
      const metadata: Partial<oidc.ClientMetadata> = this.#skewSeconds ? { [oidc.clockSkew]: this.#skewSeconds } : {};
      try {
        const config = await oidc.discovery(
          new URL(this.#c.issuer),
          this.#c.clientId,
          metadata,
          this.#c.clientSecret ? oidc.ClientSecretBasic(this.#c.clientSecret) : undefined,
          options,
        );
        if (this.#fetch) config[oidc.customFetch] = this.#fetch;
        return config;
      } catch (err) {
        throw new ArchwayError(
          "directory_unavailable",
          `identity source ${this.id}: OpenID discovery at ${this.#c.issuer} failed (${(err as Error).message})`,
          503,
          { cause: err },
        );
      }
    })();
    const pending = this.#config;
    pending.catch(() => {
      if (this.#config === pending) this.#config = undefined;
    });
    return pending;
  }

  async #identity(
    config: oidc.Configuration,
    tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  ): Promise<Identity> {
    const idClaims = tokens.claims();
    if (!idClaims)
      throw new ArchwayError("login_failed", `identity source ${this.id}: the provider returned no ID token`, 401);
    const claims: Record<string, unknown> =
      this.#c.claims.from === "userinfo"
        ? { ...idClaims, ...(await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub)) }
        : { ...idClaims };
    const map = this.#c.claims;
    const username = stringClaim(claims, map.username) ?? idClaims.sub;
    const groups = listClaim(claims, map.groups);
    return {
      id: identityId(this.id, idClaims.sub),
      source: this.id,
      username,
      email: stringClaim(claims, map.email),
      displayName: stringClaim(claims, map.displayName),
      groups,
      groupDns: [],
      sshKeys: [],
      attributes: Object.fromEntries(
        Object.entries(claims)
          .filter(([, v]) => typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string")))
          .map(([k, v]) => [k, Array.isArray(v) ? (v as string[]) : [v as string]]),
      ),
    };
  }

  #refused(err: unknown): ArchwayError {
    if (err instanceof ArchwayError) return err;
    const e = err as { error?: string; code?: string; message?: string; cause?: { message?: string } };
    // openid-client puts the specific check that failed (state, nonce, exp...) in the cause.
    const why = [e.error ?? e.code, e.cause?.message ?? e.message].filter(Boolean).join(": ") || "unknown reason";
    return new ArchwayError("login_failed", `identity source ${this.id}: login refused (${why})`, 401, { cause: err });
  }
}

/** A claim by dotted path (`realm_access.roles`). */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function stringClaim(claims: Record<string, unknown>, path: string): string | undefined {
  const v = claimAt(claims, path);
  return typeof v === "string" && v !== "" ? v : undefined;
}

function listClaim(claims: Record<string, unknown>, path: string): string[] {
  const v = claimAt(claims, path);
  if (typeof v === "string")
    return v
      .split(/[,;]/)
      .map((s) => s.trim())
      .filter(Boolean);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

function keep(
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  previous?: UpstreamTokens,
): UpstreamTokens {
  const sid = tokens.claims()?.sid;
  return {
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
    expiresAt: tokens.expires_in ? Date.now() + tokens.expires_in * 1000 : undefined,
    ...(typeof sid === "string" && sid ? { sid } : previous?.sid ? { sid: previous.sid } : {}),
  };
}
