/**
 * HTTP surfaces: `createApp` assembles the Hono app from dependencies, `startServer` listens with graceful
 * shutdown.
 */
export { type AppDeps, createApp } from "./app.js";
export { type AppEnv, requestLog } from "./env.js";
export { type ErrorBody, toErrorResponse } from "./errors.js";
export { createHttpMetrics, type HttpMetrics } from "./middleware/metrics.js";
export { type RunningServer, startServer } from "./server.js";
