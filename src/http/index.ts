/**
 * HTTP surfaces: `createApp` assembles the Hono app from dependencies, `startServer` listens with graceful
 * shutdown.
 */
export { type AppDeps, createApp, createMetricsApp } from "./app.js";
export { type AppEnv, requestLog } from "./env.js";
export { type ErrorBody, toErrorResponse } from "./errors.js";
export { CloudCatalogs } from "./keystone/catalog.js";
export { FACADE_AUDIENCE, type FacadeDeps, keystoneFacade } from "./keystone/facade.js";
export { bearerMatches, type MetricsAccess, metricsAccess } from "./metrics-access.js";
export { createHttpMetrics, type HttpMetrics } from "./middleware/metrics.js";
export { OIDC_PATHS, type OidcProviderDeps, oidcProvider } from "./oidc-provider.js";
export { CLOUD_SATURATED, CloudSaturated, UpstreamPools } from "./proxy/pools.js";
export { cloudProxy, type ProxyDeps, safeTarget } from "./proxy.js";
export { type RunningServer, startServer } from "./server.js";
export { type TokenCloudEntry, tokenCloudEntries } from "./web/index.js";
