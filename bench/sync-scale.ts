// SIMULATION, not a measurement against Keystone: 1,000 clouds x 10,000 people, with a light stand-in for Keystone
// (bench/peers/keystone-standin.ts: one child process, every cloud in memory, each reply after 5-20 ms). It shows
// how Archway's sync scales in time and memory: desired state, the first plan (empty clouds), the apply, and the
// plan of the converged clouds (the steady state of a periodic sync). People: 1,000 site teams of 10 (each gets
// `member` on its site's project in its own cloud) and 20 operators with `admin` on `ops` everywhere: 30 shadow
// users per cloud, 30,000 in all.
import { resolve } from "node:path";
import type { Cloud } from "../src/config/index.js";
import type { Identity } from "../src/identity/index.js";
import type { RequestEvent } from "../src/openstack/index.js";
import { spawnServer } from "./lib/process.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import { archwaySync, CloudSchema, isWrite } from "./lib/sync.js";

const CLOUDS = Number(process.env.BENCH_SCALE_CLOUDS ?? 1000);
const PEOPLE = Number(process.env.BENCH_SCALE_PEOPLE ?? 10_000);
const OPERATORS = 20;
const root = resolve(import.meta.dirname, "..");

const site = (i: number) => `site-${String(i).padStart(4, "0")}`;

function people(): Identity[] {
  return Array.from({ length: PEOPLE }, (_, i) => {
    const username = `u${String(i).padStart(5, "0")}`;
    const ops = i % Math.floor(PEOPLE / OPERATORS) === 0;
    return {
      id: `corp:${username}`,
      source: "bench",
      username,
      email: `${username}@example.org`,
      displayName: `Person ${i}`,
      groups: [`team-${site(i % CLOUDS)}`, ...(ops ? ["ops"] : [])],
      groupDns: [],
      sshKeys: [],
      attributes: {},
    };
  });
}

function policies(): string {
  const docs = [
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops }\nspec:\n" +
      '  subjects: { groups: { anyOf: [ops] } }\n  clouds: { names: ["*"] }\n' +
      "  grants: [{ project: ops, roles: [admin], create: true }]\n",
  ];
  for (let i = 0; i < CLOUDS; i++) {
    docs.push(
      `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${site(i)} }\nspec:\n` +
        `  subjects: { groups: { anyOf: [team-${site(i)}] } }\n  clouds: { names: [${site(i)}] }\n` +
        `  grants: [{ project: store, roles: [member], create: true }]\n`,
    );
  }
  return docs.join("---\n");
}

interface Phase {
  name: string;
  seconds: number;
  requests: number;
  writes: number;
  operations: number;
  heapMiB: number;
}

export async function benchSyncScale(): Promise<void> {
  const standin = await spawnServer(
    "keystone stand-in",
    process.execPath,
    ["--import", "tsx", "bench/peers/keystone-standin.ts"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  // Heap sampled while the phases run: the peak is what a worker needs.
  let peakHeap = 0;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  }, 20);
  try {
    const clouds: Cloud[] = Array.from({ length: CLOUDS }, (_, i) =>
      CloudSchema.parse({
        id: site(i),
        authUrl: `${standin.url}/${site(i)}/v3`,
        labels: { region: `r${i % 10}` },
        admin: { username: "admin", password: "stand-in" },
      }),
    );
    const events: RequestEvent[] = [];
    const t0 = performance.now();
    const everyone = people();
    const { sync } = archwaySync({
      clouds,
      people: everyone,
      policiesYaml: policies(),
      onRequest: (e) => events.push(e),
    });
    const setupSeconds = (performance.now() - t0) / 1000;
    const phases: Phase[] = [];
    const phase = async (name: string, run: () => Promise<number>) => {
      const from = events.length;
      peakHeap = 0;
      const start = performance.now();
      const operations = await run();
      // The sampler cannot fire during long synchronous stretches (policy evaluation): sample at the end too.
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      const seconds = (performance.now() - start) / 1000;
      const sent = events.slice(from);
      phases.push({
        name,
        seconds,
        requests: sent.length,
        writes: sent.filter(isWrite).length,
        operations,
        heapMiB: peakHeap / 2 ** 20,
      });
      console.log(`${name}: ${seconds.toFixed(1)} s, ${sent.length} requests`);
      // A quiet moment between phases, so the next peak is its own.
      (globalThis as { gc?: () => void }).gc?.();
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
    } finally {
      await sync.close();
    }
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    appendBenchmark({
      title: `Sync scale SIMULATION: ${CLOUDS.toLocaleString("en")} clouds x ${PEOPLE.toLocaleString("en")} people (stand-in Keystone, 5-20 ms per reply)`,
      command: "npm run bench -- sync-scale",
      markdown: markdownTable([
        [
          "phase",
          "seconds",
          "requests",
          "writes",
          "operations (planned / applied / assignments)",
          "peak heap MiB (garbage included)",
        ],
        ...phases.map((p) => [p.name, p.seconds.toFixed(2), p.requests, p.writes, p.operations, p.heapMiB.toFixed(0)]),
      ]),
      notes:
        `**A simulation**: the clouds are a stand-in process (bench/peers/keystone-standin.ts) that keeps each cloud ` +
        "in memory and answers after a random 5-20 ms, not real Keystones; it shows Archway's own time and memory at " +
        `this scale, not Keystone's. ${CLOUDS} clouds, ${PEOPLE} people (1 site team of ${PEOPLE / CLOUDS} per cloud ` +
        `+ ${OPERATORS} operators everywhere), ${CLOUDS + 1} policies; 16 clouds at once, 8 requests in flight per ` +
        `cloud. Peak RSS of the Archway process over the whole run: **${rssMiB.toFixed(0)} MiB**; building the ` +
        `people, policies and clients took ${setupSeconds.toFixed(1)} s.`,
    });
  } finally {
    clearInterval(sampler);
    await standin.stop();
  }
}
