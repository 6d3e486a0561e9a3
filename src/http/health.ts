import { Hono } from "hono";
import type { IdentitySource } from "../identity/index.js";
import type { Store } from "../store/index.js";
import type { AppEnv } from "./env.js";
import type { HttpMetrics } from "./middleware/metrics.js";

const READY_TIMEOUT_MS = 2_000;

interface Check {
  ok: boolean;
  ms: number;
  error?: string;
}

/**
 * `/healthz` (the process is alive), `/readyz` (each dependency answers, with per-dependency detail; 503 when
 * one does not) and `/metrics` (Prometheus text).
 */
export function healthRoutes(deps: { store: Store; sources: readonly IdentitySource[]; metrics: HttpMetrics }) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const probes: [string, () => Promise<void>][] = [
      [`store:${deps.store.kind}`, () => deps.store.ping()],
      ...deps.sources.map((s): [string, () => Promise<void>] => [`source:${s.id}`, () => s.ping()]),
    ];
    const results = await Promise.all(probes.map(async ([name, probe]) => [name, await check(probe)] as const));
    const checks = Object.fromEntries(results);
    const ready = results.every(([, r]) => r.ok);
    return c.json({ status: ready ? "ready" : "not_ready", checks }, ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    c.header("Content-Type", deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });
  return app;
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
