import type { IdpClient, SigningAlgorithm } from "../config/index.js";
import type { OidcProviderDeps } from "../http/index.js";
import type { WebSessions } from "../http/web/index.js";
import { isLookupSource, isPasswordSource, type LoginGuard, type MfaService } from "../identity/index.js";
import type { CompiledPolicySet } from "../policy/index.js";
import { AuthorizationCodes, DeviceCodes, OAuthClients, OidcTokenIssuer, RefreshTokens } from "../tokens/index.js";
import type { Runtime } from "./runtime.js";

/** The issuer of the OpenID Provider's tokens (also what the broker shows federated clouds). */
export function oidcTokenIssuer(runtime: Runtime, policies: () => CompiledPolicySet): OidcTokenIssuer {
  const { config } = runtime.loaded;
  return new OidcTokenIssuer({
    tokens: runtime.tokens,
    clouds: config.clouds,
    policies,
    accessTokenTtlSeconds: config.signing.accessTokenTtlSeconds,
    idTokenTtlSeconds: config.idp.idTokenTtlSeconds,
    idTokenAlgorithm: idTokenAlgorithms(config.idp.clients),
  });
}

/** Each client's `idTokenSignedResponseAlg`, looked up per ID token. */
function idTokenAlgorithms(clients: readonly IdpClient[]): (clientId: string) => SigningAlgorithm | undefined {
  const byClient = new Map(clients.map((c) => [c.id, c.idTokenSignedResponseAlg]));
  return (clientId) => byClient.get(clientId);
}

/** Builds the OpenID Provider's dependencies from the runtime: clients and grant stores around the issuer. */
export function buildOidcProvider(
  runtime: Runtime,
  shared: { issue: OidcTokenIssuer; guard: LoginGuard; web: WebSessions; mfa?: MfaService },
): OidcProviderDeps {
  const { config } = runtime.loaded;
  const idp = config.idp;
  return {
    issuer: runtime.publicUrl,
    config: idp,
    clients: new OAuthClients(idp.clients, {
      store: runtime.store,
      audit: runtime.audit,
      limits: idp.clientAuthentication,
    }),
    issue: shared.issue,
    tokens: runtime.tokens,
    codes: new AuthorizationCodes(runtime.store, idp.codeTtlSeconds * 1000),
    refresh: new RefreshTokens(runtime.store, idp.refreshTokenTtlSeconds * 1000),
    devices: new DeviceCodes(runtime.store, idp.deviceCodeTtlSeconds * 1000, idp.devicePollSeconds * 1000),
    algorithms: runtime.keys.algorithms,
    guard: shared.guard,
    ...(shared.mfa ? { mfa: shared.mfa } : {}),
    passwordSources: runtime.sources.filter(isPasswordSource),
    async relookup(identity) {
      const source = runtime.sources.find((s) => s.id === identity.source);
      if (!source || !isLookupSource(source)) return undefined;
      const fresh = await source.lookup(identity.username);
      // A username now held by someone else is not the same person.
      return fresh && fresh.id === identity.id ? fresh : null;
    },
    sessions: runtime.sessions,
    web: shared.web,
    store: runtime.store,
    audit: runtime.audit,
  };
}
