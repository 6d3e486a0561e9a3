/**
 * What `sync apply` shows while it runs and when it ends: on a terminal, one progress bar per phase on stderr
 * (clouds read and planned, operations applied, clouds finished), redrawn in place; at the end, a summary table of
 * the clouds on stdout. Without a terminal there are no bars (logs and pipes stay clean) and the table is the
 * caller's choice.
 */
import type { JobResult } from "../sync/index.js";
import type { CliIO } from "./command.js";

const ACTIONS = ["create", "update", "revoke", "disable", "delete"] as const;
type Action = (typeof ACTIONS)[number];

/** Totals of a run's results: what the table's last row and `--json`'s `summary` say. */
export interface RunSummary {
  clouds: number;
  converged: number;
  refused: number;
  failed: number;
  totals: Record<Action | "failed", number>;
}

/** Counts what the clouds did: a refused or unreadable cloud applied nothing, so its plan is not counted. */
export function summarize(results: readonly JobResult[]): RunSummary {
  const totals: RunSummary["totals"] = { create: 0, update: 0, revoke: 0, disable: 0, delete: 0, failed: 0 };
  for (const r of results) {
    if (r.outcome !== "converged" && r.outcome !== "applied_with_failures") continue;
    for (const a of ACTIONS) totals[a] += r.counts?.[a] ?? 0;
    totals.failed += r.failed ?? 0;
  }
  return {
    clouds: results.length,
    converged: results.filter((r) => r.outcome === "converged").length,
    refused: results.filter((r) => r.outcome === "refused").length,
    failed: results.filter((r) => r.outcome === "failed" || r.outcome === "applied_with_failures").length,
    totals,
  };
}

/** Rows past this many are folded into one line (a 1,000-cloud run must fit a screen). */
const MAX_ROWS = 40;

/**
 * The summary table: one row per cloud that changed, failed or was refused (clouds in sync are counted, not
 * listed), then a total row. Failures first, then the most changed.
 */
export function summaryTable(results: readonly JobResult[]): string {
  const changed = (r: JobResult) => ACTIONS.some((a) => (r.counts?.[a] ?? 0) > 0);
  const rank = (r: JobResult) => (r.outcome === "converged" ? 1 : 0);
  const size = (r: JobResult) => ACTIONS.reduce((n, a) => n + (r.counts?.[a] ?? 0), 0);
  const listed = results
    .filter((r) => r.outcome !== "converged" || changed(r))
    .sort((a, b) => rank(a) - rank(b) || size(b) - size(a) || a.cloudId.localeCompare(b.cloudId));
  const inSync = results.length - listed.length;
  const shown = listed.slice(0, MAX_ROWS);
  const summary = summarize(results);
  const header = ["cloud", "outcome", ...ACTIONS, "failed"];
  const rows = shown.map((r) => [
    r.cloudId,
    r.outcome,
    ...ACTIONS.map((a) => String(r.counts?.[a] ?? 0)),
    String(r.failed ?? (r.outcome === "failed" ? "-" : 0)),
  ]);
  const folded = listed.length - shown.length;
  const notes: string[][] = [];
  if (folded > 0) notes.push([`... ${folded} more`, "", ...ACTIONS.map(() => ""), ""]);
  if (inSync > 0) notes.push([`${inSync} in sync`, "converged", ...ACTIONS.map(() => "0"), "0"]);
  const total = [
    "total",
    `${summary.converged}/${summary.clouds} converged`,
    ...ACTIONS.map((a) => String(summary.totals[a])),
    String(summary.totals.failed),
  ];
  const all = [header, ...rows, ...notes, total];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...rows.map(line), ...notes.map(line), rule, line(total)].join("\n");
}

/** The live part of a run's display. */
export interface ApplyProgress {
  /** One operation of a cloud done (the engine's per-operation callback, inline queue only). */
  operation(cloudId: string, done: number, total: number): void;
  /** One cloud finished (any queue). */
  result(r: JobResult): void;
  /** Removes the bars (before the table is printed). */
  finish(): void;
}

/** Bars on a terminal; nothing otherwise. `clouds` is how many clouds the run covers. */
export function applyProgress(
  io: CliIO,
  opts: { clouds: number; now?: () => number; intervalMs?: number },
): ApplyProgress {
  if (!io.isTTY) return { operation() {}, result() {}, finish() {} };
  const write = io.errRaw ?? ((text: string) => io.err(text.replace(/\n$/, "")));
  const now = opts.now ?? Date.now;
  const intervalMs = opts.intervalMs ?? 100;
  const planned = new Set<string>();
  const perCloud = new Map<string, { done: number; total: number }>();
  let finished = 0;
  let drawn = 0;
  let lastAt = Number.NEGATIVE_INFINITY;
  const frame = () => {
    let done = 0;
    let total = 0;
    for (const c of perCloud.values()) {
      done += c.done;
      total += c.total;
    }
    const clouds = Math.max(opts.clouds, finished);
    return [
      `plan   ${bar(planned.size, clouds)} ${planned.size}/${clouds} clouds read and planned`,
      `apply  ${bar(done, total)} ${done}/${total} operations`,
      `done   ${bar(finished, clouds)} ${finished}/${clouds} clouds`,
    ];
  };
  // Up over what was drawn, then each line cleared and written again.
  const erase = () => (drawn > 0 ? `\x1b[${drawn}A` : "");
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastAt < intervalMs) return;
    lastAt = t;
    const lines = frame();
    write(`${erase()}${lines.map((l) => `\x1b[2K${l}\n`).join("")}`);
    drawn = lines.length;
  };
  const clear = () => {
    if (drawn === 0) return;
    write(`${erase()}${"\x1b[2K\n".repeat(drawn)}\x1b[${drawn}A`);
    drawn = 0;
  };
  draw(true);
  return {
    operation(cloudId, done, total) {
      planned.add(cloudId);
      perCloud.set(cloudId, { done, total });
      draw(done === total);
    },
    result(r) {
      planned.add(r.cloudId);
      finished++;
      draw(true);
    },
    finish: clear,
  };
}

function bar(done: number, total: number, width = 30): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}
