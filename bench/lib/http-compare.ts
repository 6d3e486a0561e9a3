import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { markdownTable } from "./report.js";

/** One HTTP target of a comparison. */
export interface HttpTarget {
  name: string;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /**
   * PID of the server process behind the target, when the benchmark started it: its CPU time (user + system)
   * per request is then reported too. On a shared, noisy machine that figure drifts far less than req/s.
   */
  pid?: number;
}

/** Figures for one target, summed over its rounds. */
export interface HttpFigures {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** Server CPU time per request in µs (only for targets with a `pid`). */
  cpuUs?: number;
}

interface Options {
  connections?: number;
  /** Seconds per round. */
  duration?: number;
  /** Rounds per target; targets alternate round by round so drift on a noisy machine hits both alike. */
  rounds?: number;
  /** Warm-up seconds per target before measuring. */
  warmup?: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ");
    // utime and stime, in USER_HZ ticks (100 per second on Linux whatever the kernel's HZ).
    return fields ? (Number(fields[11]) + Number(fields[12])) / 100 : undefined;
  } catch {
    return undefined;
  }
}

function run(target: HttpTarget, connections: number, duration: number): Promise<autocannon.Result> {
  return autocannon({
    url: target.url,
    method: (target.method ?? "GET") as autocannon.Request["method"],
    headers: target.headers,
    body: target.body,
    connections,
    duration,
    pipelining: 1,
  });
}

/**
 * Drives every target alternately with autocannon and returns their figures. The first target is the one the
 * ratios are computed for (ratio = its req/s over each peer's).
 */
export async function compareHttp(targets: HttpTarget[], opts: Options = {}): Promise<HttpFigures[]> {
  const connections = opts.connections ?? 50;
  const duration = opts.duration ?? 5;
  const rounds = opts.rounds ?? 3;
  const warmup = opts.warmup ?? 2;
  for (const t of targets) await run(t, connections, warmup);
  const acc = new Map<
    string,
    { requests: number; seconds: number; p50: number[]; p99: number[]; errors: number; non2xx: number; cpu?: number }
  >();
  for (let round = 0; round < rounds; round++) {
    for (const t of targets) {
      const cpuBefore = t.pid === undefined ? undefined : cpuSeconds(t.pid);
      const r = await run(t, connections, duration);
      const cpuAfter = t.pid === undefined ? undefined : cpuSeconds(t.pid);
      const a = acc.get(t.name) ?? { requests: 0, seconds: 0, p50: [], p99: [], errors: 0, non2xx: 0 };
      if (cpuBefore !== undefined && cpuAfter !== undefined) a.cpu = (a.cpu ?? 0) + cpuAfter - cpuBefore;
      a.requests += r.requests.total;
      a.seconds += r.duration;
      a.p50.push(r.latency.p50);
      a.p99.push(r.latency.p99);
      a.errors += r.errors + r.timeouts;
      a.non2xx += r.non2xx;
      acc.set(t.name, a);
    }
  }
  return targets.map((t) => {
    const a = acc.get(t.name)!;
    return {
      name: t.name,
      requests: a.requests,
      seconds: a.seconds,
      rps: a.requests / a.seconds,
      p50: median(a.p50),
      p99: median(a.p99),
      errors: a.errors,
      non2xx: a.non2xx,
      ...(a.cpu !== undefined && a.requests > 0 ? { cpuUs: (a.cpu / a.requests) * 1e6 } : {}),
    };
  });
}

/** The median of `xs` (the upper one of an even count), 0 for none. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

/**
 * A markdown table of the figures with each row's ratio against the first target, plus the server's CPU µs per
 * request when any target had a PID.
 */
export function httpTable(figures: HttpFigures[]): string {
  const base = figures[0];
  const cpu = figures.some((f) => f.cpuUs !== undefined);
  return markdownTable([
    [
      "target",
      "req/s",
      "p50 ms",
      "p99 ms",
      "errors",
      "non-2xx",
      `${base?.name ?? ""} / this`,
      ...(cpu ? ["CPU µs/req"] : []),
    ],
    ...figures.map((f) => [
      f.name,
      f.rps.toFixed(0),
      f.p50.toFixed(2),
      f.p99.toFixed(2),
      f.errors,
      f.non2xx,
      base ? (base.rps / f.rps).toFixed(2) : "",
      ...(cpu ? [f.cpuUs === undefined ? "-" : f.cpuUs.toFixed(1)] : []),
    ]),
  ]);
}
