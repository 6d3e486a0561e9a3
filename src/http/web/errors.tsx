import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { retryAfterOf } from "../../errors.js";
import { requestId, requestLog } from "../env.js";
import { toErrorResponse } from "../errors.js";
import { Layout, renderPage } from "./layout.js";
import type { WebEnv } from "./security.js";

/**
 * Errors of the web routes: JSON (Archway's one error shape) under `/api/`, a plain page elsewhere. A server
 * error says nothing beyond the request id; the log has the rest.
 */
export async function webError(err: Error, c: Context<WebEnv>): Promise<Response> {
  const { status, body } = toErrorResponse(err, requestId(c));
  const retryAfter = retryAfterOf(err);
  // A store outage: a retry soon works; the store logs the cause (rate-limited), so no stack per request.
  if (retryAfter !== undefined) c.header("Retry-After", retryAfter);
  else if (status >= 500) requestLog(c).error({ err: err.message, stack: err.stack }, "web request failed");
  if (c.req.path.startsWith("/api/")) return c.json(body, status);
  return renderPage(
    c,
    <Layout title={status === 403 ? "Not allowed" : status === 404 ? "Not found" : "Something went wrong"}>
      <p role="alert">{body.error.message}</p>
      <p class="muted">Request id: {requestId(c)}</p>
      <p>
        <a href="/">Back to my clouds</a>
      </p>
    </Layout>,
    status as ContentfulStatusCode,
  );
}
