import type { HistoryBucket, HistorySeries } from "../../sync/index.js";

/** The ranges the history page offers: how far back, and how many hours each bar sums. */
export const HISTORY_RANGES = {
  "24h": { hours: 24, binHours: 1 },
  "7d": { hours: 7 * 24, binHours: 4 },
  "14d": { hours: 14 * 24, binHours: 8 },
} as const;
export type HistoryRange = keyof typeof HISTORY_RANGES;

/** The series the chart draws, one panel each (each with its own scale: changes run in thousands, runs in units). */
export const CHART_SERIES = ["runs", "changes", "failures"] as const satisfies readonly HistorySeries[];
export type ChartSeries = (typeof CHART_SERIES)[number];

/** One bar: its box in the SVG's user units, and what it stands for. */
export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  value: number;
  start: number;
  end: number;
}

/** One panel: a series' bars over a common time axis, scaled to the series' own maximum. */
export interface Panel {
  series: ChartSeries;
  /** Top of the panel. */
  top: number;
  height: number;
  max: number;
  total: number;
  bars: Bar[];
}

/** What the SVG draws: the size, the panels, and labels along the time axis. */
export interface ChartGeometry {
  width: number;
  height: number;
  /** Left margin where the panels' labels go. */
  left: number;
  panels: Panel[];
  ticks: { x: number; label: string }[];
  bins: HistoryBucket[];
}

/** Sums consecutive hours into bins of `binHours` (the last bin may be shorter); pure. */
export function binHistory(buckets: readonly HistoryBucket[], binHours: number): HistoryBucket[] {
  const size = Math.max(1, Math.floor(binHours));
  const bins: HistoryBucket[] = [];
  // Bins end at the newest hour, so the last bar is always the current period.
  for (let end = buckets.length; end > 0; end -= size) {
    const slice = buckets.slice(Math.max(0, end - size), end);
    const first = slice[0];
    if (!first) continue;
    bins.unshift({
      start: first.start,
      runs: sum(slice, "runs"),
      cloudRuns: sum(slice, "cloudRuns"),
      changes: sum(slice, "changes"),
      failures: sum(slice, "failures"),
    });
  }
  return bins;
}

/**
 * Lays out the chart (pure: unit-tested): one panel per series stacked over a shared time axis, bars of equal width
 * with a gap, each panel scaled to its own maximum (a bar of a non-zero value is at least one unit tall, so a single
 * failure among thousands of changes still shows), and up to `maxTicks` time labels.
 */
export function chartGeometry(
  bins: readonly HistoryBucket[],
  opts: { binMs: number; width?: number; panelHeight?: number; gap?: number; left?: number; maxTicks?: number },
): ChartGeometry {
  const width = opts.width ?? 900;
  const panelHeight = opts.panelHeight ?? 70;
  const gap = opts.gap ?? 18;
  const left = opts.left ?? 90;
  const axis = 22;
  const plotWidth = width - left;
  const slot = bins.length > 0 ? plotWidth / bins.length : plotWidth;
  const barWidth = Math.max(1, slot * 0.8);
  const panels: Panel[] = CHART_SERIES.map((series, i) => {
    const top = i * (panelHeight + gap) + gap;
    const max = Math.max(0, ...bins.map((b) => b[series]));
    return {
      series,
      top,
      height: panelHeight,
      max,
      total: bins.reduce((n, b) => n + b[series], 0),
      bars: bins.map((b, j) => {
        const value = b[series];
        const h = max === 0 || value === 0 ? 0 : Math.max(1, (value / max) * panelHeight);
        return {
          x: round(left + j * slot + (slot - barWidth) / 2),
          y: round(top + panelHeight - h),
          width: round(barWidth),
          height: round(h),
          value,
          start: b.start,
          end: b.start + opts.binMs,
        };
      }),
    };
  });
  const height = CHART_SERIES.length * (panelHeight + gap) + gap + axis;
  const maxTicks = opts.maxTicks ?? 8;
  const every = Math.max(1, Math.ceil(bins.length / maxTicks));
  const ticks = bins.flatMap((b, j) =>
    j % every === 0 ? [{ x: round(left + j * slot + slot / 2), label: tickLabel(b.start, opts.binMs) }] : [],
  );
  return { width, height, left, panels, ticks, bins: [...bins] };
}

/** A time label: the hour within a day's range, else the day and hour (UTC). */
function tickLabel(start: number, binMs: number): string {
  const iso = new Date(start).toISOString();
  return binMs < 3600_000 * 2 ? `${iso.slice(11, 16)}` : `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
}

const sum = (slice: readonly HistoryBucket[], s: HistorySeries) => slice.reduce((n, b) => n + b[s], 0);
const round = (v: number) => Math.round(v * 10) / 10;
