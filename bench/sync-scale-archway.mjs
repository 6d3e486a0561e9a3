// The Archway side of the sync-scale SIMULATION (bench/sync-scale.ts), in a process of its own: plain Node on the
// compiled gateway (dist/), no tsx and none of the benchmark's own state, so the CPU and peak RSS it reports are
// Archway's (its sync, clients and in-memory store), not the bench's. JavaScript, not TypeScript: a .ts file would
// need tsx's loader, a second isolate worth about 40 MiB of RSS that production does not have.
// Builds the sync as bench/lib/sync.ts `archwaySync` does (same config, store, audit and client options) and runs
// the four phases. Usage: node bench/sync-scale-archway.mjs <input.json>
//   input: { clouds: Cloud[] (raw config), people: Identity[], policiesYaml: string, concurrency?: number }
// Prints one progress line per phase on stderr and, last on stdout, one JSON line: { setupSeconds, phases, maxRssMiB,
// replanByOperation, settings }.
import { randomBytes } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import { writeHeapSnapshot } from "node:v8";

const dist = new URL("../dist/", import.meta.url);
const { ConfigSchema } = await import(new URL("config/index.js", dist).href);
const { compilePolicies } = await import(new URL("policy/index.js", dist).href);
const { MemoryStore } = await import(new URL("store/index.js", dist).href);
const { createSync } = await import(new URL("sync/index.js", dist).href);
const { socketsPerService } = await import(new URL("openstack/index.js", dist).href);

const input = JSON.parse(readFileSync(process.argv[2] ?? "", "utf8"));

// Heap and RSS sampled while the phases run: the peak is what a worker needs. RSS every 20 ms (cheap), the heap
// every 100 ms: `memoryUsage()` walks the heap's spaces, at 20 ms that was 1% of this process's CPU.
let peakHeap = 0;
let peakRss = 0;
let ticks = 0;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (ticks++ % 5 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
};
const sampler = setInterval(sample, 20);

const isWrite = (e) => e.method !== "GET" && e.method !== "HEAD" && e.operation !== "keystone.auth.issue";
// Counted, not kept: 100,000 request records would be the benchmark's memory, not Archway's.
const count = { requests: 0, writes: 0, connects: 0, writesBy: new Map(), byOperation: new Map() };
// New connections (TCP connects) to the clouds: each costs a connect and, later, a close in this process.
subscribe("undici:client:connected", () => {
  count.connects++;
});

const t0 = performance.now();
const config = ConfigSchema.parse({
  deploymentId: "bench",
  secrets: { shadowPasswordKey: randomBytes(32).toString("base64url") },
  clouds: input.clouds,
  sync: {
    ...(input.concurrency ? { concurrency: input.concurrency } : {}),
    maxDeletesPerRun: { perCloud: 100_000, total: 1_000_000 },
  },
});
const compiled = compilePolicies([{ file: "bench.yaml", text: input.policiesYaml }], {
  clouds: config.clouds,
  sources: ["bench"],
  roles: config.roles,
});
if (compiled.problems.length > 0) throw new Error(JSON.stringify(compiled.problems));
const people = input.people;
input.people = undefined;
const store = new MemoryStore();
const sync = createSync({
  config,
  store,
  // Archway records every applied change; that cost stays in the measurement (the log line is left out).
  audit: async (event) => {
    await store.append("audit", { ...event, at: new Date().toISOString() }, { maxLength: 1_000_000 });
  },
  sources: [
    {
      id: "bench",
      type: "static",
      ping: async () => {},
      close: async () => {},
      mark: async () => new Date().toISOString(),
      async *list() {
        yield* people;
      },
    },
  ],
  policies: () => compiled.policies,
  queue: "inline",
  clientOptions: {
    retry: { attempts: 3, baseMs: 100 },
    onRequest: (e) => {
      count.requests++;
      count.byOperation.set(e.operation, (count.byOperation.get(e.operation) ?? 0) + 1);
      if (!isWrite(e)) return;
      count.writes++;
      count.writesBy.set(e.service, (count.writesBy.get(e.service) ?? 0) + 1);
    },
  },
});
const setupSeconds = (performance.now() - t0) / 1000;

const phases = [];
let applyWrites = {};
let replanByOperation = {};
const phase = async (name, run) => {
  const from = { requests: count.requests, writes: count.writes, connects: count.connects };
  count.writesBy = new Map();
  count.byOperation = new Map();
  peakHeap = 0;
  peakRss = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const operations = await run();
  // The sampler cannot fire during long synchronous stretches (policy evaluation): sample at the end too.
  ticks = 0;
  sample();
  const used = process.cpuUsage(cpu);
  const seconds = (performance.now() - start) / 1000;
  phases.push({
    name,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    requests: count.requests - from.requests,
    writes: count.writes - from.writes,
    connects: count.connects - from.connects,
    operations,
    heapMiB: peakHeap / 2 ** 20,
    rssMiB: peakRss / 2 ** 20,
  });
  if (name.startsWith("apply")) applyWrites = Object.fromEntries(count.writesBy);
  if (name.startsWith("plan, converged")) replanByOperation = Object.fromEntries(count.byOperation);
  // BENCH_SCALE_LIVE=1 (with --expose-gc): what stays reachable after the phase, for finding what the heap holds.
  const gc = process.env.BENCH_SCALE_LIVE ? globalThis.gc : undefined;
  gc?.();
  const live = gc ? `, ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB live after` : "";
  // BENCH_SCALE_SNAPSHOT=<dir>: a heap snapshot after each phase (what the live figure is made of).
  if (process.env.BENCH_SCALE_SNAPSHOT)
    writeHeapSnapshot(`${process.env.BENCH_SCALE_SNAPSHOT}/${phases.length}.heapsnapshot`);
  const cpuS = ((used.user + used.system) / 1e6).toFixed(1);
  console.error(
    `${name}: ${seconds.toFixed(1)} s, ${cpuS} CPU s, ${count.requests - from.requests} requests, ` +
      `${count.connects - from.connects} connects, ${(peakRss / 2 ** 20).toFixed(0)} MiB RSS${live}`,
  );
};
const planned = async () => {
  const plans = await sync.service.plan();
  let ops = 0;
  for (const p of plans) {
    if (!("operations" in p)) throw new Error(`cloud ${p.cloudId}: ${p.reason}`);
    ops += p.operations.length;
  }
  return ops;
};
try {
  await phase("desired state only (policy, no I/O)", async () => {
    const desired = sync.service.desired(await sync.service.identities());
    let n = 0;
    for (const d of desired.values()) n += d.assignments.length;
    return n;
  });
  await phase("plan, empty clouds (first run)", planned);
  await phase("apply (full run: observe, plan, write)", async () => {
    const { results } = await sync.service.full();
    const bad = results.filter((r) => r.outcome !== "converged");
    if (bad.length > 0) throw new Error(`${bad.length} clouds did not converge: ${JSON.stringify(bad[0])}`);
    return results.reduce((s, r) => s + (r.applied ?? 0), 0);
  });
  await phase("plan, converged clouds (periodic resync)", planned);
  // BENCH_SCALE_REPLANS=<n>: the converged replan n times (a noisy machine: take the best), each after every cloud's
  // pool has closed (idle 4 s), as a periodic resync minutes later finds them.
  for (let i = 1; i < Number(process.env.BENCH_SCALE_REPLANS ?? 1); i++) {
    await new Promise((r) => setTimeout(r, 5_000));
    await phase(`plan, converged clouds (periodic resync, again ${i})`, planned);
  }
} finally {
  clearInterval(sampler);
  await sync.close();
}
const maxRssMiB = process.resourceUsage().maxRSS / 1024;
const [first] = config.clouds;
const settings = {
  concurrency: config.sync.concurrency,
  maxConcurrency: first.maxConcurrency,
  connectionsPerService: socketsPerService(first),
};
process.stdout.write(
  `${JSON.stringify({ setupSeconds, phases, maxRssMiB, applyWrites, replanByOperation, settings })}\n`,
);
