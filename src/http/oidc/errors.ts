import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isArchwayError, retryAfterOf } from "../../errors.js";

/**
 * An OAuth error (RFC 6749 section 5.2): the registered `error` code a client library acts on, and a description
 * a person can act on. OAuth endpoints answer in this shape, not Archway's own error shape.
 */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status: ContentfulStatusCode = 400,
  ) {
    super(description);
  }
}

/** The JSON reply for an OAuth error; `invalid_client` after Basic authentication is a 401 with a challenge. */
export function oauthErrorResponse(c: Context, err: OAuthError, basicAuth = false): Response {
  c.header("cache-control", "no-store");
  if (err.status === 401) c.header("www-authenticate", basicAuth ? 'Basic realm="archway"' : 'Bearer realm="archway"');
  return c.json({ error: err.error, error_description: err.description }, err.status);
}

/** Runs an OAuth endpoint, turning {@link OAuthError}s into their reply (anything else is the app's 500). */
export function oauthEndpoint<C extends Context>(handler: (c: C) => Promise<Response>) {
  return async (c: C): Promise<Response> => {
    try {
      return await handler(c);
    } catch (err) {
      if (err instanceof OAuthError) return oauthErrorResponse(c, err, !!c.req.header("authorization"));
      // The store is down: an OAuth-shaped 503 with the Archway code as the (extension) error code.
      const retryAfter = retryAfterOf(err);
      if (retryAfter !== undefined && isArchwayError(err)) {
        c.header("Retry-After", retryAfter);
        return oauthErrorResponse(c, new OAuthError(err.code, err.message, 503));
      }
      throw err;
    }
  };
}
