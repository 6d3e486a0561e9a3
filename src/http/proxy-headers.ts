// Which headers the cloud proxy passes on, in either direction. Names are compared folded: lower case, and `_` read
// as `-`, because the clouds are Python WSGI services, where `X_Auth_Token` and `X-Auth-Token` both arrive as
// HTTP_X_AUTH_TOKEN (a client could otherwise slip its own token or forwarding claims past a list of names).

/** RFC 9110 hop-by-hop headers: they describe one connection and never travel on. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
]);

/** Credentials and forwarding claims: the proxy sets its own, and none of the client's reach a cloud or come back. */
const NEVER_FORWARD = new Set([
  "x-auth-token",
  "x-subject-token",
  "authorization",
  "cookie",
  "set-cookie",
  "x-service-token",
  "forwarded",
  "x-real-ip",
]);

/** How a WSGI service reads a header name: case-insensitive, `_` and `-` alike. */
export function foldHeaderName(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/**
 * The headers of `entries` that may pass the proxy: hop-by-hop headers, every header the `Connection` header
 * names, credentials, `Forwarded`, `X-Forwarded-*` and `X-Real-IP` are dropped, whatever their case and whether
 * written with `_` or `-`. A name with `_` that folds onto another header of the same message is dropped too:
 * which of the two the cloud would read is up to its server, so neither is trusted.
 */
export function forwardableHeaders(entries: Iterable<[string, string | string[] | undefined]>): [string, string][] {
  const all: [string, string[], string][] = [];
  const named = new Set<string>();
  const count = new Map<string, number>();
  for (const [name, value] of entries) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    const folded = foldHeaderName(name);
    if (folded === "connection") {
      for (const v of values) for (const token of v.split(",")) named.add(foldHeaderName(token.trim()));
    }
    count.set(folded, (count.get(folded) ?? 0) + 1);
    all.push([name, values, folded]);
  }
  const out: [string, string][] = [];
  for (const [name, values, folded] of all) {
    if (HOP_BY_HOP.has(folded) || NEVER_FORWARD.has(folded) || folded.startsWith("x-forwarded-")) continue;
    if (named.has(folded)) continue;
    if (name.includes("_") && (count.get(folded) ?? 0) > 1) continue;
    for (const v of values) out.push([name, v]);
  }
  return out;
}
