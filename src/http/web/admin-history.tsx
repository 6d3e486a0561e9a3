import { Hono } from "hono";
import { z } from "zod";
import { HISTORY_DAYS, readHistory } from "../../sync/index.js";
import type { WebDeps } from "./deps.js";
import { binHistory, type ChartGeometry, chartGeometry, HISTORY_RANGES, type HistoryRange } from "./history-chart.js";
import { pageUser } from "./home.js";
import { Layout, renderPage, when } from "./layout.js";
import { requireAdmin, requirePage, type WebEnv } from "./security.js";

const RangeQuery = z.object({
  range: z
    .enum(Object.keys(HISTORY_RANGES) as [HistoryRange, ...HistoryRange[]])
    .catch("24h")
    .default("24h"),
});

const LABELS = { runs: "Runs", changes: "Changes", failures: "Failures" } as const;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The sync history as an inline SVG drawn on the server: one panel per series (runs, changes applied, failed cloud
 * runs), bars per period with a `title` each (the browser's tooltip), and the same numbers as a table. No script and
 * no inline style: colours come from the stylesheet's classes, so the page's CSP holds.
 */
export const HistoryChart = ({ g, label }: { g: ChartGeometry; label: string }) => (
  <svg
    class="chart"
    viewBox={`0 0 ${g.width} ${g.height}`}
    role="img"
    aria-label={label}
    preserveAspectRatio="xMinYMin meet"
  >
    {g.panels.map((p) => (
      <g data-series={p.series} data-max={p.max} data-total={p.total}>
        <text class="chart-label" x={0} y={p.top + 14}>
          {LABELS[p.series]}
        </text>
        <text class="chart-scale" x={0} y={p.top + 30}>
          {`max ${p.max.toLocaleString("en")}`}
        </text>
        <line class="chart-base" x1={g.left} x2={g.width} y1={p.top + p.height} y2={p.top + p.height} />
        {p.bars.map((b) =>
          b.height > 0 ? (
            <rect class={`bar bar-${p.series}`} x={b.x} y={b.y} width={b.width} height={b.height}>
              <title>{`${LABELS[p.series]}: ${b.value.toLocaleString("en")} (${when(iso(b.start))} to ${when(iso(b.end))})`}</title>
            </rect>
          ) : null,
        )}
      </g>
    ))}
    {g.ticks.map((t) => (
      <text class="chart-tick" x={t.x} y={g.height - 6} text-anchor="middle">
        {t.label}
      </text>
    ))}
  </svg>
);

/** `/admin/history`: runs, changes and failures over the last day, week or two weeks. */
export function adminHistoryRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/history", requirePage(deps), requireAdmin(deps));

  app.get("/admin/history", async (c) => {
    const { range } = RangeQuery.parse(c.req.query());
    const { hours, binHours } = HISTORY_RANGES[range];
    const bins = binHistory(await readHistory(deps.store, hours), binHours);
    const g = chartGeometry(bins, { binMs: binHours * 3600_000 });
    const [runs, changes, failures] = g.panels.map((p) => p.total);
    return renderPage(
      c,
      <Layout title="Sync history" user={pageUser(deps, c)} current="admin">
        <nav aria-label="Range" class="filters">
          {(Object.keys(HISTORY_RANGES) as HistoryRange[]).map((r) =>
            r === range ? (
              <strong aria-current="page">{`last ${r}`}</strong>
            ) : (
              <a href={`/admin/history?range=${r}`}>{`last ${r}`}</a>
            ),
          )}
        </nav>
        <p>
          {`${(runs ?? 0).toLocaleString("en")} run(s), ${(changes ?? 0).toLocaleString("en")} change(s) applied, ${(failures ?? 0).toLocaleString("en")} failed cloud run(s) in the last ${range}`}
          <span class="muted">{` (bars of ${binHours} hour(s), UTC; kept ${HISTORY_DAYS} days)`}</span>
        </p>
        <div class="card">
          <HistoryChart g={g} label={`Sync runs, changes and failures over the last ${range}`} />
        </div>
        <details>
          <summary>The numbers</summary>
          <div class="scroll">
            <table class="compact">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col" class="num">
                    Runs
                  </th>
                  <th scope="col" class="num">
                    Cloud runs
                  </th>
                  <th scope="col" class="num">
                    Changes
                  </th>
                  <th scope="col" class="num">
                    Failures
                  </th>
                </tr>
              </thead>
              <tbody>
                {[...g.bins].reverse().map((b) => (
                  <tr>
                    <td class="nowrap">{when(iso(b.start))}</td>
                    <td class="num">{b.runs}</td>
                    <td class="num">{b.cloudRuns}</td>
                    <td class="num">{b.changes}</td>
                    <td class="num">{b.failures}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </Layout>,
    );
  });
  return app;
}
