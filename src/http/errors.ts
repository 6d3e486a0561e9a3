import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ZodError } from "zod";
import { isArchwayError, retryAfterOf } from "../errors.js";
import { type AppEnv, requestId, requestLog } from "./env.js";

/** The one JSON error shape of Archway's own APIs (the Keystone facade uses Keystone's shape instead). */
export interface ErrorBody {
  error: { code: string; message: string; requestId?: string };
}

const CODE_BY_STATUS: Record<number, string> = {
  400: "invalid_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "body_too_large",
  415: "unsupported_media_type",
  429: "too_many_requests",
  503: "unavailable",
};

/** Maps any thrown value to a status and an error body; unknown errors become a 500 that reveals nothing. */
export function toErrorResponse(err: unknown, requestId?: string): { status: ContentfulStatusCode; body: ErrorBody } {
  if (isArchwayError(err)) {
    return {
      status: err.status as ContentfulStatusCode,
      body: { error: { code: err.code, message: err.message, requestId } },
    };
  }
  if (err instanceof ZodError) {
    const first = err.issues[0];
    const where = first?.path.length ? `${first.path.join(".")}: ` : "";
    return {
      status: 400,
      body: { error: { code: "invalid_request", message: `${where}${first?.message ?? "invalid input"}`, requestId } },
    };
  }
  if (err instanceof SyntaxError) {
    return {
      status: 400,
      body: { error: { code: "invalid_json", message: "request body is not valid JSON", requestId } },
    };
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    const code = CODE_BY_STATUS[status] ?? (status >= 500 ? "internal_error" : "invalid_request");
    return { status, body: { error: { code, message: err.message || code.replaceAll("_", " "), requestId } } };
  }
  return {
    status: 500,
    body: { error: { code: "internal_error", message: "internal error; see the server log", requestId } },
  };
}

/** Hono `onError` handler: logs server errors with the request id and answers with {@link ErrorBody}. */
export function handleError(err: Error, c: Context<AppEnv>) {
  const { status, body } = toErrorResponse(err, requestId(c));
  const retryAfter = retryAfterOf(err);
  // The store is down: no stack per request (the store logs the cause, rate-limited; the access log the 503).
  if (retryAfter !== undefined) c.header("Retry-After", retryAfter);
  else if (status >= 500)
    requestLog(c).error({ err: { message: err.message, name: err.name, stack: err.stack }, status }, "request failed");
  return c.json(body, status);
}

/** Hono `notFound` handler. */
export function handleNotFound(c: Context<AppEnv>) {
  return c.json<ErrorBody>(
    { error: { code: "not_found", message: `no route for ${c.req.method} ${c.req.path}`, requestId: requestId(c) } },
    404,
  );
}
