/**
 * Web pages (server-rendered with hono/jsx): sign-in, "my clouds", the operator's dashboard, and the JSON API
 * behind them under `/api/v1/`.
 *
 * For other surfaces that need the signed-in browser (the IdP's authorize flow, the device flow's `/device`
 * page): call {@link readWebSession} with the app's {@link WebSessions}; when it resolves undefined, redirect to
 * `/login?return_to=<your relative path>`; after sign-in the browser comes back there.
 */
export { readWebSession, safeReturnTo, type WebSession, type WebSessionOptions, WebSessions } from "./session.js";
