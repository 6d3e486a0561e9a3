import { Hono } from "hono";
import type { Config } from "../config/index.js";
import type { IdentitySource } from "../identity/index.js";
import type { Logger } from "../log/index.js";
import type { Store } from "../store/index.js";
import type { KeyRing, TokenService } from "../tokens/index.js";
import type { AppEnv } from "./env.js";
import { handleError, handleNotFound } from "./errors.js";
import { healthRoutes } from "./health.js";
import { type FacadeDeps, keystoneFacade } from "./keystone/facade.js";
import { limitBody } from "./middleware/body-limit.js";
import { createHttpMetrics, type HttpMetrics } from "./middleware/metrics.js";
import { observe } from "./middleware/observe.js";
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
 * Assembles the gateway's Hono app: one observing middleware (request id, metrics, access log, body limit),
 * one error shape, then
 * each surface (health now; facade, proxy, IdP and pages as they land).
 */
export function createApp(deps: AppDeps): { app: Hono<AppEnv>; metrics: HttpMetrics } {
  const metrics = deps.metrics ?? createHttpMetrics();
  const app = new Hono<AppEnv>();
  app.use(
    observe({
      log: deps.log,
      metrics,
      trustedProxies: deps.config.http.trustedProxies,
      limitBody: limitBody(deps.config.http.bodyLimitBytes),
    }),
  );
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route("/", healthRoutes({ store: deps.store, sources: deps.sources, metrics }));
  app.route("/", wellKnownRoutes({ keys: deps.keys }));
  if (deps.gateway) {
    app.route("/", keystoneFacade(deps.gateway));
    app.route("/", cloudProxy(deps.gateway));
  }
  if (deps.idp) app.route("/", oidcProvider(deps.idp));
  if (deps.web) app.route("/", webRoutes(deps.web.deps, { formTargets: deps.web.formTargets }));
  return { app, metrics };
}
