import { Hono } from "hono";
import type { Config } from "../config/index.js";
import type { IdentitySource } from "../identity/index.js";
import type { Logger } from "../log/index.js";
import type { Store } from "../store/index.js";
import type { KeyRing, TokenService } from "../tokens/index.js";
import type { AppEnv } from "./env.js";
import { handleError, handleNotFound } from "./errors.js";
import { healthRoutes, metricsListenerRoutes } from "./health.js";
import { type FacadeDeps, keystoneFacade } from "./keystone/facade.js";
import { metricsAccess } from "./metrics-access.js";
import { createHttpMetrics, type HttpMetrics } from "./middleware/metrics.js";
import { observeFetch } from "./middleware/observe.js";
import { type OidcProviderDeps, oidcProvider } from "./oidc-provider.js";
import { cloudProxy, type ProxyDeps } from "./proxy.js";
import { type WebDeps, webRoutes } from "./web/index.js";
import { wellKnownRoutes } from "./well-known.js";

/** Everything the HTTP surfaces need, built once by the CLI (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  log: Logger;
  store: Store;
  sources: readonly IdentitySource[];
  keys: KeyRing;
  tokens: TokenService;
  metrics?: HttpMetrics;
  /** The Keystone-compatible facade and the cloud proxy; absent in tests of the bare app. */
  gateway?: FacadeDeps & ProxyDeps;
  /** The web pages and `/api/v1/`; `formTargets` are the SSO origins sign-in forms redirect to. */
  web?: { deps: WebDeps; formTargets?: readonly string[] };
  /** Archway as an OpenID Provider. */
  idp?: OidcProviderDeps;
}

/**
 * Assembles the gateway's Hono app: one error shape, each surface (health, JWKS, facade, proxy, IdP, pages), and
 * in front of them all one observing layer around `app.fetch` (request id, client address, body limit, metrics,
 * access log).
 */
export function createApp(deps: AppDeps): { app: Hono<AppEnv>; metrics: HttpMetrics } {
  const metrics = deps.metrics ?? createHttpMetrics();
  const app = new Hono<AppEnv>();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route(
    "/",
    healthRoutes({ store: deps.store, sources: deps.sources, metrics, access: metricsAccess(deps.config.metrics) }),
  );
  app.route("/", wellKnownRoutes({ keys: deps.keys }));
  if (deps.gateway) {
    app.route("/", keystoneFacade(deps.gateway));
    app.route("/", cloudProxy(deps.gateway));
  }
  if (deps.idp) app.route("/", oidcProvider(deps.idp));
  if (deps.web) app.route("/", webRoutes(deps.web.deps, { formTargets: deps.web.formTargets }));
  observeFetch(app, {
    log: deps.log,
    metrics,
    trustedProxies: deps.config.http.trustedProxies,
    bodyLimitBytes: deps.config.http.bodyLimitBytes,
    tracing: deps.config.telemetry?.otlpEndpoint !== undefined,
  });
  return { app, metrics };
}

/**
 * The app of the metrics listener (`metrics.listen`): `/metrics`, the detailed `/readyz` and `/healthz`, with the
 * app's error shape and no access log (scrapes every few seconds would drown it).
 */
export function createMetricsApp(deps: Pick<AppDeps, "store" | "sources"> & { metrics: HttpMetrics }): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route("/", metricsListenerRoutes(deps));
  return app;
}
