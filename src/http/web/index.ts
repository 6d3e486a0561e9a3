/**
 * Web pages (server-rendered with hono/jsx): sign-in, "my clouds", the operator's dashboard, and the JSON API
 * behind them under `/api/v1/`.
 *
 * For other surfaces that need the signed-in browser (the IdP's authorize flow, the device flow's `/device`
 * page): call {@link readWebSession} with the app's {@link WebSessions} (`WebDeps.sessions`); when it resolves
 * undefined, redirect to `/login?return_to=<your relative path>`; after sign-in the browser comes back there.
 * Pages of their own reuse {@link Layout}, {@link CsrfField}, {@link renderPage}, `requirePage`, `readForm` and
 * `pageHeaders`.
 */
export { type AuditFilter, auditEvents, cloudHealth, explainPerson } from "./admin-data.js";
export { createWebDeps, ssoOrigins } from "./build.js";
export { cloudsYaml, type TokenCloudEntry, tokenCloudEntries } from "./clouds-yaml.js";
export { adminCheck, type WebDeps, type WebVariables } from "./deps.js";
export { CsrfField, Layout, type LayoutProps, Notice, type PageUser, renderPage } from "./layout.js";
export { WEB_PATHS, webRoutes } from "./routes.js";
export {
  pageHeaders,
  pageHeaderValues,
  parseFields,
  person,
  readForm,
  requireAdmin,
  requireApi,
  requirePage,
  type WebContext,
  type WebEnv,
} from "./security.js";
export { readWebSession, safeReturnTo, type WebSession, type WebSessionOptions, WebSessions } from "./session.js";
