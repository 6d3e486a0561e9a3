import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Config } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { IdentitySource } from "../identity/index.js";
import type { Logger } from "../log/index.js";
import type { Store } from "../store/index.js";
import type { AppEnv } from "./env.js";
import { handleError, handleNotFound } from "./errors.js";
import { healthRoutes } from "./health.js";
import { accessLog } from "./middleware/access-log.js";
import { createHttpMetrics, type HttpMetrics, metricsMiddleware } from "./middleware/metrics.js";
import { requestContext } from "./middleware/request-context.js";

/** Everything the HTTP surfaces need, built once by the CLI (or a test) and passed in. */
export interface AppDeps {
  config: Config;
  log: Logger;
  store: Store;
  sources: readonly IdentitySource[];
  metrics?: HttpMetrics;
}

/**
 * Assembles the gateway's Hono app: request context, metrics, access log, body limit, one error shape, then
 * each surface (health now; facade, proxy, IdP and pages as they land).
 */
export function createApp(deps: AppDeps): { app: Hono<AppEnv>; metrics: HttpMetrics } {
  const metrics = deps.metrics ?? createHttpMetrics();
  const app = new Hono<AppEnv>();
  app.use(requestContext({ log: deps.log, trustedProxies: deps.config.http.trustedProxies }));
  app.use(metricsMiddleware(metrics));
  app.use(accessLog());
  const maxSize = deps.config.http.bodyLimitBytes;
  app.use(
    bodyLimit({
      maxSize,
      onError: () => {
        throw new ArchwayError("body_too_large", `request body is larger than ${maxSize} bytes`, 413);
      },
    }),
  );
  app.onError(handleError);
  app.notFound(handleNotFound);
  app.route("/", healthRoutes({ store: deps.store, sources: deps.sources, metrics }));
  return { app, metrics };
}
