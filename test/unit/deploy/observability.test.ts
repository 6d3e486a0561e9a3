import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { createHttpMetrics } from "../../../src/http/index.js";
import { GuardMetrics } from "../../../src/identity/guard/metrics.js";
import { CloudBreakers, registerBreakerMetrics } from "../../../src/openstack/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { registerSyncMetrics } from "../../../src/sync/index.js";

/** Every metric a running `archway serve` registers: the runtime's registry and what the gateway adds to it. */
async function registeredNames(): Promise<Set<string>> {
  const metrics = createHttpMetrics();
  new GuardMetrics().register(metrics.registry);
  registerBreakerMetrics(metrics.registry, new CloudBreakers(), () => []);
  registerSyncMetrics(metrics.registry, { store: new MemoryStore(), cloudIds: () => [] });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    // Histograms and summaries are queried by their series' names.
    if (String(m.type) === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(`${m.name}${s}`);
    if (String(m.type) === "summary") for (const s of ["_sum", "_count"]) names.add(`${m.name}${s}`);
  }
  return names;
}

/** Metrics Prometheus makes itself (scrape health), not Archway. */
const PROMETHEUS_OWN = new Set(["up", "scrape_duration_seconds", "scrape_samples_scraped"]);
const PROMQL_WORDS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "topk",
  "bottomk",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "and",
  "or",
  "unless",
  "bool",
  "rate",
  "irate",
  "increase",
  "delta",
  "histogram_quantile",
  "time",
  "vector",
  "absent",
  "le",
  "inf",
  "nan",
]);

/** The metric names a PromQL expression uses: identifiers outside label matchers, strings and range selectors. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    // Grouping clauses list labels, not metrics.
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  return [...bare.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)]
    .map((m) => m[0])
    .filter((w) => !PROMQL_WORDS.has(w.toLowerCase()) && !/^\d/.test(w));
}

const Dashboard = z.object({
  title: z.string(),
  panels: z.array(z.object({ type: z.string(), targets: z.array(z.object({ expr: z.string() })).optional() })),
});
const Rules = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(z.object({ alert: z.string(), expr: z.string(), labels: z.object({ severity: z.string() }) })),
    }),
  ),
});

describe("the Grafana dashboard and the Prometheus alerts", () => {
  it("the dashboard only queries metrics Archway registers", async () => {
    const names = await registeredNames();
    const dashboard = Dashboard.parse(JSON.parse(readFileSync("deploy/grafana/archway.json", "utf8")));
    const used = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
    expect(used.length).toBeGreaterThan(20);
    expect(used.filter((n) => !names.has(n))).toEqual([]);
  });

  it("the alerts only use metrics Archway registers, and cover the failures operators page on", async () => {
    const names = await registeredNames();
    const rules = Rules.parse(parse(readFileSync("deploy/prometheus/alerts.yaml", "utf8"))).groups.flatMap(
      (g) => g.rules,
    );
    const used = rules.flatMap((r) => metricNames(r.expr));
    expect(used.filter((n) => !names.has(n) && !PROMETHEUS_OWN.has(n))).toEqual([]);
    const alerts = rules.map((r) => r.alert);
    for (const wanted of [
      "ArchwaySyncFailing",
      "ArchwayDrift",
      "ArchwayLoginFailureSpike",
      "ArchwayLockouts",
      "ArchwayBrokerErrors",
      "ArchwayStoreDown",
    ])
      expect(alerts).toContain(wanted);
  });

  it("finds metric names in PromQL and nothing else", () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, cloud) (rate(archway_x_bucket{status_class=~"5xx|none"}[5m]))) / 2',
      ),
    ).toEqual(["archway_x_bucket"]);
    expect(metricNames("time() - max by (cloud) (archway_y) > 3 * 3600")).toEqual(["archway_y"]);
  });
});
