import { createHash, timingSafeEqual } from "node:crypto";
import type { MetricsConfig } from "../config/index.js";

/**
 * Who may read `/metrics` and the detailed `/readyz` on the main listener: `open` (nothing configured, the embedded
 * default), `bearer` (a request with the configured token), `closed` (a listener of their own serves them).
 */
export type MetricsAccess = { kind: "open" } | { kind: "closed" } | { kind: "bearer"; token: string };

/** The main listener's access from the `metrics` configuration. */
export function metricsAccess(config: MetricsConfig | undefined): MetricsAccess {
  if (config?.bearerToken) return { kind: "bearer", token: config.bearerToken };
  return config?.listen ? { kind: "closed" } : { kind: "open" };
}

/**
 * Whether an `Authorization` header carries `Bearer <token>`. Both sides are hashed first, so the comparison takes
 * the same time whatever the lengths (a plain constant-time compare still tells a wrong length apart).
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  const offered = createHash("sha256")
    .update(match?.[1] ?? "")
    .digest();
  const expected = createHash("sha256").update(token).digest();
  return timingSafeEqual(offered, expected) && match !== null;
}
