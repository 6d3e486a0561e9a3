// Archway's /healthz (full middleware stack: request id, metrics, access log, body limit) vs a bare Hono hello
// world: the ceiling any Archway route can reach. Target ratio >= 0.8.
import { resolve } from "node:path";
import { compareHttp, httpTable } from "./lib/http-compare.js";
import { spawnServer } from "./lib/process.js";
import { appendBenchmark } from "./lib/report.js";

const root = resolve(import.meta.dirname, "..");

export async function benchHealthz(opts: { duration?: number; rounds?: number } = {}): Promise<void> {
  const archway = await spawnServer(
    "archway",
    process.execPath,
    ["dist/main.js", "serve", "--config", "config/archway.example.yaml", "--port", "0"],
    /Archway listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  const hono = await spawnServer(
    "hono",
    process.execPath,
    ["--import", "tsx", "bench/peers/hono-hello.ts"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  try {
    const figures = await compareHttp(
      [
        { name: "archway /healthz", url: `${archway.url}/healthz`, pid: archway.pid },
        { name: "bare hono", url: `${hono.url}/`, pid: hono.pid },
      ],
      { connections: 50, duration: opts.duration ?? 5, rounds: opts.rounds ?? 3 },
    );
    const [a, h] = figures;
    const ratio = (a?.rps ?? 0) / (h?.rps ?? 1);
    // On two shared cores the load generator competes with the servers: CPU per request drifts far less.
    const cpuRatio = a?.cpuUs && h?.cpuUs ? `; by server CPU per request: **${(h.cpuUs / a.cpuUs).toFixed(2)}**` : "";
    appendBenchmark({
      title: "HTTP floor: Archway /healthz vs bare Hono",
      command: "npm run bench -- healthz",
      markdown: httpTable(figures),
      notes: `Ratio Archway / bare Hono: **${ratio.toFixed(2)}** (target >= 0.8${cpuRatio}). autocannon -c 50, ${opts.rounds ?? 3} alternating rounds of ${opts.duration ?? 5} s each, servers in their own processes, load generator in a third.`,
    });
  } finally {
    await Promise.all([archway.stop(), hono.stop()]);
  }
}
