import type { Context } from "hono";
import type { IdpClient } from "../../config/index.js";
import type { OAuthClients } from "../../tokens/index.js";
import { type AppEnv, clientIp, requestHeader, requestText } from "../env.js";
import { OAuthError } from "./errors.js";

/** Request parameters as single strings; a repeated parameter is refused (RFC 6749 section 3.1). */
export type Params = Record<string, string>;

/** The form body of a POST (`application/x-www-form-urlencoded` only, as RFC 6749 requires) or a GET's query. */
export async function readParams(c: Context<AppEnv>): Promise<Params> {
  if (c.req.method === "GET") return single(new URL(c.req.url).searchParams);
  const type = requestHeader(c, "content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded"))
    throw new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  return single(new URLSearchParams(await requestText(c)));
}

function single(search: URLSearchParams): Params {
  const out: Params = {};
  for (const [key, value] of search) {
    if (key in out) throw new OAuthError("invalid_request", `parameter ${key} is repeated`);
    out[key] = value;
  }
  return out;
}

/**
 * Authenticates the client: HTTP Basic (`client_secret_basic`, form-encoded id and secret per RFC 6749 section
 * 2.3.1), or `client_id` and `client_secret` in the body (`client_secret_post`), or `client_id` alone for a
 * public client. Using both methods at once is refused. A wrong secret is `invalid_client` (401); too many of
 * them from the caller's address answer 429 with Retry-After (still `invalid_client`: the request is not looked at),
 * and a hashing backlog 503 `temporarily_unavailable` with Retry-After.
 */
export async function authenticateClient(
  c: Context<AppEnv>,
  params: Params,
  clients: OAuthClients,
): Promise<IdpClient> {
  const header = requestHeader(c, "authorization");
  let id: string | undefined;
  let secret: string | undefined;
  if (header) {
    const m = header.match(/^Basic\s+([A-Za-z0-9+/=]+)$/i);
    if (!m) throw new OAuthError("invalid_client", "unsupported Authorization scheme for client authentication", 401);
    const decoded = Buffer.from(m[1] as string, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new OAuthError("invalid_client", "malformed Basic credentials", 401);
    try {
      id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
      secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
    } catch {
      throw new OAuthError("invalid_client", "malformed Basic credentials", 401);
    }
    if (params.client_secret !== undefined)
      throw new OAuthError("invalid_request", "use one client authentication method, not two");
    if (params.client_id !== undefined && params.client_id !== id)
      throw new OAuthError("invalid_request", "client_id differs from the authenticated client");
  } else {
    id = params.client_id;
    secret = params.client_secret;
  }
  if (!id) throw new OAuthError("invalid_client", "client authentication is required", 401);
  const result = await clients.authenticate(id, secret, clientIp(c));
  switch (result.kind) {
    case "ok":
      return result.client;
    case "refused":
      throw new OAuthError("invalid_client", "unknown client or wrong client credentials", 401);
    case "limited":
      c.header("retry-after", String(result.retryAfterSeconds));
      throw new OAuthError(
        "invalid_client",
        `too many failed client authentications from this address; try again in ${Math.ceil(result.retryAfterSeconds / 60)} minutes`,
        429,
      );
    case "busy":
      c.header("retry-after", String(result.retryAfterSeconds));
      throw new OAuthError("temporarily_unavailable", "too many client secrets are being checked; try again", 503);
  }
}

/** Scopes asked for, limited to what the client may receive (unknown ones are dropped, as RFC 6749 allows). */
export function grantedScope(requested: string | undefined, client: IdpClient): string[] {
  const asked = (requested ?? "openid").split(" ").filter(Boolean);
  return [...new Set(asked.filter((s) => client.scopes.includes(s)))];
}
