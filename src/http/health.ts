import { Hono } from "hono";
import type { IdentitySource } from "../identity/index.js";
import type { Store } from "../store/index.js";
import { type AppEnv, requestHeader } from "./env.js";
import { bearerMatches, type MetricsAccess } from "./metrics-access.js";
import type { HttpMetrics } from "./middleware/metrics.js";

const READY_TIMEOUT_MS = 2_000;

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
}

interface HealthDeps {
  store: Store;
  sources: readonly IdentitySource[];
  metrics: HttpMetrics;
}

/**
 * The main listener's `/healthz` (the process is alive), `/readyz` (every dependency answers; 503 when one does
 * not) and `/metrics` (Prometheus text). `/readyz` says only ready or not ready there, unless the request carries
 * the metrics bearer token; `/metrics` answers as `access` says (see {@link MetricsAccess}): open, to the bearer
 * token only, or (a metrics listener of their own) 404. Without `access`, `/metrics` is open.
 */
export function healthRoutes(deps: HealthDeps & { access?: MetricsAccess }) {
  const app = new Hono<AppEnv>();
  const access = deps.access ?? { kind: "open" };
  const bearer = (c: Parameters<typeof requestHeader>[0]): boolean =>
    access.kind === "bearer" && bearerMatches(requestHeader(c, "authorization"), access.token);
  const allowed = (c: Parameters<typeof requestHeader>[0]): boolean => access.kind === "open" || bearer(c);
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const { ready, checks } = await readiness(deps);
    const status = ready ? "ready" : "not_ready";
    // The checks name the store, the directories and their errors: for the operator, not the internet.
    return c.json(bearer(c) ? { status, checks } : { status }, ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    if (access.kind === "closed")
      return c.json({ error: "not_found", message: "metrics are served on their own listener" }, 404);
    if (!allowed(c)) {
      c.header("WWW-Authenticate", 'Bearer realm="metrics"');
      return c.json(
        { error: "unauthorized", message: "metrics need Authorization: Bearer <metrics.bearerToken>" },
        401,
      );
    }
    return render(c, deps.metrics);
  });
  return app;
}

/**
 * The metrics listener (`metrics.listen`): `/metrics`, the detailed `/readyz` (each check with its time and error)
 * and `/healthz`, for the scraper and the operator on a private address.
 */
export function metricsListenerRoutes(deps: HealthDeps) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const { ready, checks } = await readiness(deps);
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });
  app.get("/metrics", (c) => render(c, deps.metrics));
  return app;
}

async function render(
  c: { header(name: string, value: string): void; body(data: string): Response },
  metrics: HttpMetrics,
) {
  c.header("Content-Type", metrics.registry.contentType);
  return c.body(await metrics.registry.metrics());
}

/** Each dependency's answer (store, identity sources), at most {@link READY_TIMEOUT_MS} each. */
async function readiness(deps: HealthDeps): Promise<{ ready: boolean; checks: Record<string, Check> }> {
  const probes: [string, () => Promise<void>][] = [
    [`store:${deps.store.kind}`, () => deps.store.ping()],
    ...deps.sources.map((s): [string, () => Promise<void>] => [`source:${s.id}`, () => s.ping()]),
  ];
  const results = await Promise.all(probes.map(async ([name, probe]) => [name, await check(probe)] as const));
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}

async function check(probe: () => Promise<void>): Promise<Check> {
  const start = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, ms: Math.round(performance.now() - start) };
  } catch (err) {
    return { ok: false, ms: Math.round(performance.now() - start), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
