import { formatProblem } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { FacadeDeps, OidcProviderDeps, ProxyDeps } from "../http/index.js";
import { CloudCatalogs, createApp, createHttpMetrics, type HttpMetrics } from "../http/index.js";
import { createWebDeps, ssoOrigins, type WebDeps } from "../http/web/index.js";
import { isPasswordSource, LoginGuard } from "../identity/index.js";
import { createOffboard, type OffboardService } from "../offboard/index.js";
import { createSync, type SyncParts, shadowPassword } from "../sync/index.js";
import { TokenBroker } from "../tokens/index.js";
import { buildOidcProvider, oidcTokenIssuer } from "./oidc-provider.js";
import { livePolicies } from "./policies.js";
import type { Runtime } from "./runtime.js";

/** The facade, proxy and sync pieces `serve` mounts, built from the runtime. */
export interface Gateway {
  facade: FacadeDeps & ProxyDeps;
  /** Absent without `secrets.shadowPasswordKey`. */
  sync?: SyncParts;
  /** Departure detection and the kill switch; absent without sync (no clouds to offboard in). */
  offboard?: OffboardService;
  /** The web pages and `/api/v1/` (sessions, keys, admin), with the origins their forms may redirect to. */
  web: { deps: WebDeps; formTargets: string[] };
  /** Archway as an OpenID Provider (Keystone federation and other relying parties). */
  idp: OidcProviderDeps;
  /**
   * Compiles the policy files again and, when they have no problem, serves them from now on (every part reads
   * policies through one function). With problems, the policies in use stay and the problems are returned.
   */
  reloadPolicies(): string[];
  close(): Promise<void>;
}

/** Compiles the policies (refusing to start on a bad file) and builds the token broker, catalogs and sync. */
export function buildGateway(runtime: Runtime): Gateway {
  const { config } = runtime.loaded;
  const live = livePolicies(runtime);
  if (live.problems.length > 0) {
    throw new ArchwayError(
      "policies_invalid",
      `policies have problems (run archway policy check):\n${live.problems.map(formatProblem).join("\n")}`,
      500,
    );
  }
  const policies = live.current;
  const secret = config.secrets.shadowPasswordKey;
  // Without the shadow-password key there is no brokering and no just-in-time sync; the facade still serves.
  const sync = secret
    ? createSync({
        config,
        store: runtime.store,
        audit: runtime.audit,
        sources: runtime.sources,
        policies,
        queue: "inline",
      })
    : undefined;
  const issue = oidcTokenIssuer(runtime, policies);
  const broker = new TokenBroker({
    federatedAccessToken: async (identity, cloudId) =>
      (
        await issue.accessToken({
          clientId: "archway",
          identity,
          scope: ["openid"],
          cloudId,
          authTime: Math.floor(Date.now() / 1000),
        })
      ).token,
    store: runtime.store,
    sealer: runtime.sealer,
    clouds: config.clouds,
    shadowPassword: (cloudId, identityId) => {
      if (!secret)
        throw new ArchwayError("config_missing_secret", "brokered clouds need secrets.shadowPasswordKey", 500);
      return shadowPassword(secret, cloudId, identityId, config.sync.keyVersion);
    },
    ensureUser: sync
      ? async (identity) => {
          await sync.service.person(identity);
        }
      : undefined,
  });
  const catalogs = new CloudCatalogs(config.clouds, sync ? { clients: sync.clients } : {});
  const sessions = runtime.sessions;
  // A session's end purges the broker's cached Keystone tokens of the person (their other sessions fetch anew).
  sessions.onEnd((session) => broker.drop(session.personId));
  const guard = new LoginGuard({ store: runtime.store, audit: runtime.audit, limits: config.identity.lockout });
  const offboard = sync
    ? createOffboard({
        config,
        store: runtime.store,
        audit: runtime.audit,
        sources: runtime.sources,
        clients: sync.clients,
        sessions,
        purgeBrokerCache: (id) => broker.drop(id),
        onError: (source, message) => runtime.log.error({ source }, message),
      })
    : undefined;
  const web = createWebDeps({
    config,
    publicUrl: runtime.publicUrl,
    log: runtime.log,
    store: runtime.store,
    audit: runtime.audit,
    sources: runtime.sources,
    guard,
    policies,
    tokens: runtime.tokens,
    tokenSessions: sessions,
    sync,
    broker,
    offboard,
    sealer: runtime.sealer,
  });
  return {
    web: { deps: web, formTargets: ssoOrigins(config) },
    idp: buildOidcProvider(runtime, { issue, guard, web: web.sessions }),
    facade: {
      publicUrl: runtime.publicUrl,
      tokens: runtime.tokens,
      sessions,
      guard,
      sources: runtime.sources.filter(isPasswordSource),
      policies,
      catalogs,
      ttlSeconds: config.signing.accessTokenTtlSeconds,
      audit: runtime.audit,
      broker,
    },
    sync,
    offboard,
    reloadPolicies: () => live.reload().map(formatProblem),
    async close() {
      // Shutdown must finish whatever one part reports: a half-closed pool is not worth an error exit.
      await Promise.allSettled([catalogs.close(), sync?.close()]);
    },
  };
}

/** The Hono app with every surface of the gateway mounted: health, JWKS, facade, proxy, pages and the IdP. */
export function gatewayApp(runtime: Runtime, gateway: Gateway, metrics: HttpMetrics = createHttpMetrics()) {
  // Lockouts, refusals and unlocks on /metrics beside the request histogram.
  gateway.facade.guard.metrics.register(metrics.registry);
  return createApp({
    config: runtime.loaded.config,
    log: runtime.log,
    store: runtime.store,
    sources: runtime.sources,
    keys: runtime.keys,
    tokens: runtime.tokens,
    metrics,
    gateway: gateway.facade,
    web: gateway.web,
    idp: gateway.idp,
  });
}
