import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { cpuSeconds, type HttpTarget, median } from "./http-compare.js";
import { markdownTable } from "./report.js";

const run = promisify(execFile);

/**
 * A target driven by wrk (Debian's `wrk`, a C load generator in its own process): one fixed request, as for
 * autocannon. Used where the in-process Node clients would take as much CPU as the server they load on these
 * two-core machines. With a `pid`, the CPU of its children (a uwsgi master's worker) counts too.
 */
export type WrkTarget = HttpTarget;

/** Figures for one target, summed over its rounds. */
export interface WrkFigures {
  name: string;
  requests: number;
  seconds: number;
  rps: number;
  /** Median over the rounds of each round's percentile, ms. */
  p50: number;
  p99: number;
  /** Answers that were not 2xx/3xx, plus socket errors. */
  failures: number;
  cpuUs?: number;
}

interface Options {
  connections: number;
  /** Seconds per round. */
  duration: number;
  rounds: number;
  warmup: number;
}

/** CPU seconds of a process and of its children (a uwsgi master's worker), from /proc. */
function treeCpuSeconds(pid: number): number | undefined {
  const own = cpuSeconds(pid);
  if (own === undefined) return undefined;
  let children = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      for (const child of readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) {
        children += treeCpuSeconds(Number(child)) ?? 0;
      }
    }
  } catch {
    // no children file (old kernel): the process alone
  }
  return own + children;
}

/** The Lua script wrk runs: method, headers and body of the one request every connection repeats. */
function script(t: WrkTarget): string {
  const lines = [`wrk.method = ${JSON.stringify(t.method ?? "GET")}`];
  for (const [name, value] of Object.entries(t.headers ?? {})) {
    lines.push(`wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`);
  }
  // JSON string escapes are valid Lua string escapes for the ASCII bodies benchmarks send.
  if (t.body !== undefined) lines.push(`wrk.body = ${JSON.stringify(t.body)}`);
  return `${lines.join("\n")}\n`;
}

/** Parses wrk's `--latency` report into what one round adds. */
function parse(out: string): { requests: number; seconds: number; p50: number; p99: number; failures: number } {
  const number = (re: RegExp) => Number(re.exec(out)?.[1] ?? Number.NaN);
  const ms = (label: string) => {
    const m = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(out);
    if (!m) return Number.NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sockets ? sockets.slice(1).reduce((n, x) => n + Number(x), 0) : 0;
  const nonOk = number(/Non-2xx or 3xx responses: (\d+)/);
  return {
    requests: number(/(\d+) requests in/),
    seconds: number(/requests in ([\d.]+)s/),
    p50: ms("50"),
    p99: ms("99"),
    failures: (Number.isNaN(nonOk) ? 0 : nonOk) + socketErrors,
  };
}

async function once(t: WrkTarget, file: string, connections: number, seconds: number) {
  const { stdout } = await run("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--latency", "-s", file, t.url]);
  return parse(stdout);
}

/**
 * Drives every target alternately with wrk (one thread, `connections` connections) and returns their figures; the
 * first target is the one ratios are computed for. Throws when wrk is missing (`npm run testenv -- install`).
 */
export async function compareWrk(targets: WrkTarget[], opts: Options): Promise<WrkFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), "archway-wrk-"));
  try {
    const files = targets.map((t, i) => {
      const file = join(dir, `target-${i}.lua`);
      writeFileSync(file, script(t));
      return file;
    });
    for (const [i, t] of targets.entries()) await once(t, files[i] as string, opts.connections, opts.warmup);
    const acc = targets.map(() => ({
      requests: 0,
      seconds: 0,
      p50: [] as number[],
      p99: [] as number[],
      failures: 0,
      cpu: 0,
    }));
    for (let round = 0; round < opts.rounds; round++) {
      for (const [i, t] of targets.entries()) {
        const before = t.pid === undefined ? undefined : treeCpuSeconds(t.pid);
        const r = await once(t, files[i] as string, opts.connections, opts.duration);
        const after = t.pid === undefined ? undefined : treeCpuSeconds(t.pid);
        const a = acc[i] as (typeof acc)[number];
        a.requests += r.requests;
        a.seconds += r.seconds;
        a.p50.push(r.p50);
        a.p99.push(r.p99);
        a.failures += r.failures;
        if (before !== undefined && after !== undefined) a.cpu += after - before;
      }
    }
    return targets.map((t, i) => {
      const a = acc[i] as (typeof acc)[number];
      return {
        name: t.name,
        requests: a.requests,
        seconds: a.seconds,
        rps: a.requests / a.seconds,
        p50: median(a.p50),
        p99: median(a.p99),
        failures: a.failures,
        ...(t.pid !== undefined && a.requests > 0 ? { cpuUs: (a.cpu / a.requests) * 1e6 } : {}),
      };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A markdown table of wrk figures with each row's ratio against the first target (by req/s, and by CPU). */
export function wrkTable(figures: WrkFigures[], unit = "req/s"): string {
  const base = figures[0];
  return markdownTable([
    ["target", unit, "p50 ms", "p99 ms", "failures", "server CPU µs/req", `${base?.name ?? ""} / this`],
    ...figures.map((f) => [
      f.name,
      f.rps.toFixed(0),
      f.p50.toFixed(2),
      f.p99.toFixed(2),
      f.failures,
      f.cpuUs === undefined ? "" : f.cpuUs.toFixed(0),
      base ? (base.rps / f.rps).toFixed(2) : "",
    ]),
  ]);
}
