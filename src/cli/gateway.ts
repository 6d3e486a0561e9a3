import { type Cloud, formatProblem } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { FacadeDeps, OidcProviderDeps, ProxyDeps } from "../http/index.js";
import { CloudCatalogs, createApp, type HttpMetrics, UpstreamPools } from "../http/index.js";
import { createWebDeps, ssoOrigins, type WebDeps } from "../http/web/index.js";
import { isPasswordSource, LoginGuard, MfaService } from "../identity/index.js";
import { createOffboard, type OffboardService, UpstreamGrants } from "../offboard/index.js";
import { type CloudBreakers, configuredBreakers, registerBreakerMetrics } from "../openstack/index.js";
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
  reloadPolicies(clouds?: readonly Cloud[]): string[];
  /** Takes a reloaded cloud inventory into the broker and the catalogs (the rest reads the config's list). */
  setClouds(clouds: readonly Cloud[]): void;
  /** This process's per-cloud circuit breakers (catalog reads, broker, proxy and sync share them). */
  breakers: CloudBreakers;
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
  // One breaker per cloud for the process: whoever finds a cloud down spares every other caller the wait.
  const breakers = configuredBreakers(config.breaker, runtime.log);
  // Without the shadow-password key there is no brokering and no just-in-time sync; the facade still serves.
  const sync = secret
    ? createSync({
        config,
        store: runtime.store,
        audit: runtime.audit,
        sources: runtime.sources,
        policies,
        queue: "inline",
        clientOptions: { breakers },
        metrics: runtime.metrics,
      })
    : undefined;
  const issue = oidcTokenIssuer(runtime, policies);
  const broker = new TokenBroker({
    federatedAccessToken: async (identity, cloudId, mfa) =>
      (
        await issue.accessToken({
          clientId: "archway",
          identity,
          scope: ["openid"],
          cloudId,
          authTime: Math.floor(Date.now() / 1000),
          // The asking session's strength decides the groups (grants that wait on a second factor).
          amr: mfa ? ["mfa"] : [],
        })
      ).token,
    store: runtime.store,
    sealer: runtime.sealer,
    breakers,
    metrics: runtime.metrics,
    onRequest: (e) => runtime.metrics.upstream(e.cloudId, e.service, e.method, e.status, e.ms / 1000),
    clouds: config.clouds,
    shadowPassword: (cloudId, identityId) => {
      if (!secret)
        throw new ArchwayError("config_missing_secret", "brokered clouds need secrets.shadowPasswordKey", 500);
      return shadowPassword(secret, cloudId, identityId, config.sync.keyVersion);
    },
    ensureUser: sync
      ? async (identity, cloudId) => {
          await sync.service.person(identity, { cloudId });
        }
      : undefined,
    onLateProvisioningFailure: (err, cloudId) =>
      runtime.log.warn({ cloud: cloudId, err: (err as Error).message }, "just-in-time provisioning failed"),
  });
  const proxyPools = new UpstreamPools();
  const catalogs = new CloudCatalogs(config.clouds, {
    store: runtime.store,
    breakers,
    ...(sync ? { clients: sync.clients } : {}),
    refreshMs: config.catalog.refreshSeconds * 1000,
    retryMs: config.catalog.retrySeconds * 1000,
    coldWaitMs: config.catalog.coldWaitMs,
    log: runtime.log,
  });
  // Read in the background from now on; requests are served from the last good copies (the store's at first).
  catalogs.start();
  const sessions = runtime.sessions;
  // A session's end purges the broker's cached Keystone tokens of the person (their other sessions fetch anew).
  sessions.onEnd((session) => broker.drop(session.personId));
  // SSO logins keep the upstream's session id and refresh token (sealed): back-channel logout and grant renewal.
  const upstreamGrants = new UpstreamGrants({ store: runtime.store, sealer: runtime.sealer, sessions });
  sessions.onEnd((session) => upstreamGrants.forget(session.sid));
  const guard = new LoginGuard({ store: runtime.store, audit: runtime.audit, limits: config.identity.lockout });
  // Logins, lockouts, refusals and unlocks on /metrics beside everything else.
  guard.metrics.register(runtime.metrics.registry);
  // Second factors (docs/mfa.md): codes counted by the same guard as their own attempt kind.
  const mfa = new MfaService({
    store: runtime.store,
    sealer: runtime.sealer,
    attempts: guard.attempts,
    audit: runtime.audit,
    modes: new Map(config.identity.sources.map((s) => [s.id, s.mfa ?? "off"])),
    issuer: `Archway ${new URL(runtime.publicUrl).host}`,
  });
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
        upstreamGrants,
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
    mfa,
    policies,
    tokens: runtime.tokens,
    tokenSessions: sessions,
    sync,
    broker,
    offboard,
    upstreamGrants,
    sealer: runtime.sealer,
  });
  return {
    web: { deps: web, formTargets: ssoOrigins(runtime.sources) },
    idp: buildOidcProvider(runtime, { issue, guard, web: web.sessions, mfa }),
    facade: {
      publicUrl: runtime.publicUrl,
      tokens: runtime.tokens,
      sessions,
      guard,
      mfa,
      sources: runtime.sources.filter(isPasswordSource),
      policies,
      catalogs,
      ttlSeconds: config.signing.accessTokenTtlSeconds,
      audit: runtime.audit,
      broker,
      breakers,
      pools: proxyPools,
      metrics: runtime.metrics,
    },
    sync,
    breakers,
    offboard,
    reloadPolicies: (clouds) => live.reload(clouds).map(formatProblem),
    setClouds(clouds) {
      broker.setClouds(clouds);
      catalogs.setClouds(clouds);
    },
    async close() {
      // Shutdown must finish whatever one part reports: a half-closed pool is not worth an error exit.
      await Promise.allSettled([catalogs.close(), sync?.close(), proxyPools.close()]);
    },
  };
}

/** The Hono app with every surface of the gateway mounted: health, JWKS, facade, proxy, pages and the IdP. */
export function gatewayApp(runtime: Runtime, gateway: Gateway, metrics: HttpMetrics = runtime.metrics) {
  // The guard's counters are in the runtime's registry already; another registry (tests) gets them too.
  if (metrics !== runtime.metrics) gateway.facade.guard.metrics.register(metrics.registry);
  const cloudIds = runtime.loaded.config.clouds.map((c) => c.id);
  registerBreakerMetrics(metrics.registry, gateway.breakers, () => cloudIds);
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
