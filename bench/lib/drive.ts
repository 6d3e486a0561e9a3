import { markdownTable } from "./report.js";

/**
 * One target of a closed-loop comparison: `send(n)` performs request number `n` and resolves true when the
 * answer was the expected one. Used where every request needs its own body or user (logins, re-scopes), which
 * autocannon's fixed requests cannot express.
 */
export interface DriveTarget {
  name: string;
  send(n: number): Promise<boolean>;
}

/** Figures for one target, summed over its rounds. */
export interface DriveFigures {
  name: string;
  count: number;
  failures: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
}

interface DriveOptions {
  /** Requests in flight per target. */
  concurrency: number;
  roundMs: number;
  /** Rounds per target; targets alternate round by round so drift on a noisy machine hits both alike. */
  rounds: number;
  warmupMs?: number;
}

async function driveOnce(
  target: DriveTarget,
  concurrency: number,
  ms: number,
): Promise<{ count: number; failures: number; seconds: number; latencies: number[] }> {
  const start = performance.now();
  const deadline = start + ms;
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const ok = await target.send(next++).catch(() => false);
        if (ok) latencies.push(performance.now() - t);
        else failures++;
      }
    }),
  );
  return { count: latencies.length, failures, seconds: (performance.now() - start) / 1000, latencies };
}

/**
 * Drives every target with `concurrency` requests in flight, alternating rounds, and returns their figures
 * (latencies in ms, measured with `performance.now`, so sub-millisecond differences show). The first target is
 * the one ratios are computed for.
 */
export async function compareDrive(targets: DriveTarget[], opts: DriveOptions): Promise<DriveFigures[]> {
  for (const t of targets) await driveOnce(t, opts.concurrency, opts.warmupMs ?? 1_000);
  const acc = new Map(targets.map((t) => [t.name, { count: 0, failures: 0, seconds: 0, latencies: [] as number[] }]));
  for (let round = 0; round < opts.rounds; round++) {
    for (const t of targets) {
      const r = await driveOnce(t, opts.concurrency, opts.roundMs);
      const a = acc.get(t.name)!;
      a.count += r.count;
      a.failures += r.failures;
      a.seconds += r.seconds;
      a.latencies.push(...r.latencies);
    }
  }
  return targets.map((t) => {
    const a = acc.get(t.name)!;
    const sorted = a.latencies.sort((x, y) => x - y);
    const pct = (p: number) => sorted[Math.floor((sorted.length - 1) * p)] ?? 0;
    return {
      name: t.name,
      count: a.count,
      failures: a.failures,
      seconds: a.seconds,
      rate: a.count / a.seconds,
      p50: pct(0.5),
      p99: pct(0.99),
    };
  });
}

/** A markdown table of driven figures with each row's speed-up of the first target over it. */
export function driveTable(figures: DriveFigures[], unit = "req/s"): string {
  const base = figures[0];
  return markdownTable([
    ["target", unit, "p50 ms", "p99 ms", "failures", `${base?.name ?? ""} / this`],
    ...figures.map((f) => [
      f.name,
      f.rate.toFixed(0),
      f.p50.toFixed(2),
      f.p99.toFixed(2),
      f.failures,
      base ? (base.rate / f.rate).toFixed(2) : "",
    ]),
  ]);
}
