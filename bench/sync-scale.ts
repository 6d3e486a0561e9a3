// SIMULATION, not a measurement against OpenStack: 1,000 clouds x 10,000 people, with a light stand-in for the
// clouds (bench/peers/keystone-standin.ts: one child process, every cloud's Keystone, Nova, Cinder and Neutron in
// memory, each reply after 5-20 ms). It shows how Archway's sync scales in time and memory: desired state, the first
// plan (empty clouds), the apply, and the plan of the converged clouds (the steady state of a periodic sync).
// People: 1,000 site teams of 10 (each gets `member` on its site's project in its own cloud) and 20 operators with
// `admin` on `ops` everywhere: 30 shadow users per cloud, 30,000 in all. Every cloud also gets a FlavorSet.
// What main's sync does not handle yet is left out of the policies (FEATURES below) and said in the report.
import { resolve } from "node:path";
import type { Cloud } from "../src/config/index.js";
import type { Identity } from "../src/identity/index.js";
import { spawnServer } from "./lib/process.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import { archwaySync, CloudSchema, isWrite } from "./lib/sync.js";

const CLOUDS = Number(process.env.BENCH_SCALE_CLOUDS ?? 1000);
const PEOPLE = Number(process.env.BENCH_SCALE_PEOPLE ?? 10_000);
const OPERATORS = 20;
const root = resolve(import.meta.dirname, "..");

/**
 * Which of the issue's new resources the simulated policies use: each one as soon as main's sync has it (quota sync
 * and group grants, flavors and security-group baselines: all synced now).
 */
const FEATURES = {
  /** `quotas:` on the site and ops grants (Nova, Cinder, Neutron quota sets of each owned project). */
  quotas: true,
  /** `assignTo: group` on the site grants: the team's Keystone group holds `member`, its people are its members. */
  groupGrants: true,
  /** A FlavorSet targeting every cloud (2 public flavors, 1 private to `ops`). */
  flavors: true,
  /** A SecurityGroupBaseline for every owned project: one group, SSH from a bastion range and ICMP. */
  baselines: true,
};

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

const SITE_QUOTAS =
  ", quotas: { compute: { cores: 16, ram: 32768, instances: 8 }, volume: { volumes: 8, gigabytes: 500 }, network: { port: 50, security_group: 10 } }";
const OPS_QUOTAS = ", quotas: { compute: { cores: 64, ram: 131072, instances: 32 }, volume: { volumes: 32 } }";

function policies(): string {
  const docs = [
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops }\nspec:\n" +
      '  subjects: { groups: { anyOf: [ops] } }\n  clouds: { names: ["*"] }\n' +
      `  grants: [{ project: ops, roles: [admin], create: true${FEATURES.quotas ? OPS_QUOTAS : ""} }]\n`,
  ];
  if (FEATURES.flavors) {
    docs.push(
      "apiVersion: archway.dev/v1\nkind: FlavorSet\nmetadata: { name: standard }\nspec:\n" +
        '  clouds: { names: ["*"] }\n  flavors:\n' +
        "    - { name: a1.small, vcpus: 1, ram: 2048, disk: 20 }\n" +
        '    - { name: a1.pinned, vcpus: 4, ram: 8192, disk: 40, extraSpecs: { "hw:cpu_policy": dedicated } }\n' +
        "    - { name: a1.ops, vcpus: 8, ram: 16384, disk: 80, public: false, projects: [ops] }\n",
    );
  }
  if (FEATURES.baselines) {
    docs.push(
      "apiVersion: archway.dev/v1\nkind: SecurityGroupBaseline\nmetadata: { name: bastion }\nspec:\n" +
        '  clouds: { names: ["*"] }\n  securityGroups:\n    - name: bastion-ssh\n      rules:\n' +
        "        - { direction: ingress, protocol: tcp, portRangeMin: 22, remoteIpPrefix: 192.0.2.0/24 }\n" +
        "        - { direction: ingress, protocol: icmp }\n",
    );
  }
  for (let i = 0; i < CLOUDS; i++) {
    const extra = `${FEATURES.groupGrants ? `, assignTo: group, keystoneGroup: team-${site(i)}` : ""}${FEATURES.quotas ? SITE_QUOTAS : ""}`;
    docs.push(
      `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${site(i)} }\nspec:\n` +
        `  subjects: { groups: { anyOf: [team-${site(i)}] } }\n  clouds: { names: [${site(i)}] }\n` +
        `  grants: [{ project: store, roles: [member], create: true${extra} }]\n`,
    );
  }
  return docs.join("---\n");
}

interface Phase {
  name: string;
  seconds: number;
  cpuSeconds: number;
  requests: number;
  writes: number;
  operations: number;
  heapMiB: number;
  rssMiB: number;
}

export async function benchSyncScale(): Promise<void> {
  const standin = await spawnServer(
    "cloud stand-in",
    process.execPath,
    ["--import", "tsx", "bench/peers/keystone-standin.ts"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  // Heap and RSS sampled while the phases run: the peak is what a worker needs.
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  };
  const sampler = setInterval(sample, 20);
  try {
    const clouds: Cloud[] = Array.from({ length: CLOUDS }, (_, i) =>
      CloudSchema.parse({
        id: site(i),
        authUrl: `${standin.url}/${site(i)}/v3`,
        labels: { region: `r${i % 10}` },
        admin: { username: "admin", password: "stand-in" },
      }),
    );
    // Counted, not kept: 70,000 request records would be the benchmark's own memory, not Archway's.
    const count = { requests: 0, writes: 0, writesBy: new Map<string, number>() };
    const t0 = performance.now();
    const everyone = people();
    const { sync } = archwaySync({
      clouds,
      people: everyone,
      policiesYaml: policies(),
      onRequest: (e) => {
        count.requests++;
        if (!isWrite(e)) return;
        count.writes++;
        count.writesBy.set(e.service, (count.writesBy.get(e.service) ?? 0) + 1);
      },
    });
    const setupSeconds = (performance.now() - t0) / 1000;
    const phases: Phase[] = [];
    let applyWrites = new Map<string, number>();
    const phase = async (name: string, run: () => Promise<number>) => {
      const from = { requests: count.requests, writes: count.writes };
      count.writesBy = new Map();
      peakHeap = 0;
      peakRss = 0;
      const start = performance.now();
      const cpu = process.cpuUsage();
      const operations = await run();
      // The sampler cannot fire during long synchronous stretches (policy evaluation): sample at the end too.
      sample();
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - start) / 1000;
      phases.push({
        name,
        seconds,
        cpuSeconds: (used.user + used.system) / 1e6,
        requests: count.requests - from.requests,
        writes: count.writes - from.writes,
        operations,
        heapMiB: peakHeap / 2 ** 20,
        rssMiB: peakRss / 2 ** 20,
      });
      if (name.startsWith("apply")) applyWrites = count.writesBy;
      console.log(`${name}: ${seconds.toFixed(1)} s, ${count.requests - from.requests} requests`);
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
    const features = Object.entries(FEATURES)
      .map(([k, on]) => `${k} ${on ? "on" : "off (not in main's sync yet)"}`)
      .join(", ");
    const writesBy = [...applyWrites].map(([s, n]) => `${s} ${n}`).join(", ");
    appendBenchmark({
      title: `Sync scale SIMULATION: ${CLOUDS.toLocaleString("en")} clouds x ${PEOPLE.toLocaleString("en")} people (stand-in clouds, 5-20 ms per reply)`,
      command: "npm run bench -- sync-scale",
      markdown: markdownTable([
        [
          "phase",
          "seconds",
          "CPU seconds (Archway process)",
          "requests",
          "writes",
          "operations (planned / applied / assignments)",
          "peak heap MiB (garbage included)",
          "peak RSS MiB",
        ],
        ...phases.map((p) => [
          p.name,
          p.seconds.toFixed(2),
          p.cpuSeconds.toFixed(2),
          p.requests,
          p.writes,
          p.operations,
          p.heapMiB.toFixed(0),
          p.rssMiB.toFixed(0),
        ]),
      ]),
      notes:
        `**A simulation**: the clouds are a stand-in process (bench/peers/keystone-standin.ts) that keeps each cloud ` +
        "in memory and answers after a random 5-20 ms, not real services; it shows Archway's own time and memory at " +
        `this scale, not OpenStack's. ${CLOUDS} clouds, ${PEOPLE} people (1 site team of ${PEOPLE / CLOUDS} per cloud ` +
        `+ ${OPERATORS} operators everywhere), ${CLOUDS + 1} policies; 16 clouds at once, 8 requests in flight per ` +
        `cloud. New resources: ${features}. Apply writes by service: ${writesBy || "none"}. Peak RSS of the Archway ` +
        `process over the whole run: **${rssMiB.toFixed(0)} MiB** (targets: <= 512 MiB, apply <= 30 s, converged ` +
        `replan <= 5 s); building the people, policies and clients took ${setupSeconds.toFixed(1)} s. On a shared ` +
        "machine wall seconds move with the load; CPU seconds of the Archway process much less.",
    });
  } finally {
    clearInterval(sampler);
    await standin.stop();
  }
}
