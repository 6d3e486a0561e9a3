// SIMULATION, not a measurement against OpenStack: 1,000 clouds x 10,000 people, with a light stand-in for the
// clouds (bench/peers/keystone-standin.ts: one child process, every cloud's Keystone, Nova, Cinder and Neutron in
// memory, each reply after 5-20 ms). It shows how Archway's sync scales in time and memory: desired state, the first
// plan (empty clouds), the apply, and the plan of the converged clouds (the steady state of a periodic sync).
// People: 1,000 site teams of 10 (each gets `member` on its site's project in its own cloud) and 20 operators with
// `admin` on `ops` everywhere: 30 shadow users per cloud, 30,000 in all. Every cloud also gets a FlavorSet.
// What main's sync does not handle yet is left out of the policies (FEATURES below) and said in the report.
// Archway itself runs in a child process (bench/sync-scale-archway.mjs), so its CPU and peak RSS are its own.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Identity } from "../src/identity/index.js";
import { runChild, spawnServer } from "./lib/process.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

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
  connects: number;
  operations: number;
  heapMiB: number;
  rssMiB: number;
}

/** What the Archway process (bench/sync-scale-archway.mjs) reports. */
interface ArchwayReport {
  setupSeconds: number;
  phases: Phase[];
  maxRssMiB: number;
  applyWrites: Record<string, number>;
  replanByOperation: Record<string, number>;
  /** What the sync ran with: clouds at once, calls in flight per cloud, sockets per service of a cloud. */
  settings: { concurrency: number; maxConcurrency: number; connectionsPerService: number };
}

/** What the Archway process gets (bench/sync-scale-archway.mjs): the clouds (raw config), people and policies. */
export function scaleInput(standinUrl: string) {
  const clouds = Array.from({ length: CLOUDS }, (_, i) => ({
    id: site(i),
    authUrl: `${standinUrl}/${site(i)}/v3`,
    labels: { region: `r${i % 10}` },
    admin: { username: "admin", password: "stand-in" },
  }));
  // BENCH_SCALE_CONCURRENCY=<n>: clouds at once (sync.concurrency); unset, the product's default.
  const concurrency = process.env.BENCH_SCALE_CONCURRENCY ? Number(process.env.BENCH_SCALE_CONCURRENCY) : undefined;
  return { clouds, people: people(), policiesYaml: policies(), concurrency };
}

/** The worker's V8 old-space limit in MiB, as deploy/ starts it (`--max-old-space-size`). */
const WORKER_HEAP_MIB = 1024;
/** The worker's young-generation semi-space in MiB, as deploy/ starts it (`--max-semi-space-size`). */
const WORKER_SEMI_SPACE_MIB = 32;

export async function benchSyncScale(): Promise<void> {
  const standin = await spawnServer(
    "cloud stand-in",
    process.execPath,
    ["--import", "tsx", "bench/peers/keystone-standin.ts"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  const dir = mkdtempSync(join(tmpdir(), "archway-bench-scale-"));
  try {
    // Archway runs in a process of its own (plain Node on dist/, as production runs it), the stand-in in another and
    // this one only prepares the input and writes the report: the CPU and RSS measured are Archway's alone.
    const inputFile = join(dir, "input.json");
    writeFileSync(inputFile, JSON.stringify(scaleInput(standin.url)));
    // BENCH_CPU_PROF=<dir>: a V8 CPU profile of the Archway process, for finding what its time goes to.
    const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : [];
    // BENCH_SCALE_LIVE=1: the heap still reachable after each phase (a full collection between phases).
    if (process.env.BENCH_SCALE_LIVE) prof.push("--expose-gc");
    // The V8 old-space limit the worker ships with (deploy/: systemd, chart, compose); BENCH_SCALE_HEAP_MIB=<n>
    // sets another, 0 leaves V8's default sizing (about 4x what is live) to compare.
    const heapMiB = Number.parseInt(process.env.BENCH_SCALE_HEAP_MIB ?? String(WORKER_HEAP_MIB), 10);
    if (heapMiB > 0) prof.push(`--max-old-space-size=${heapMiB}`);
    // Likewise the semi-space; BENCH_SCALE_SEMI_SPACE_MIB=0 leaves V8's default (16 MiB).
    const semiMiB = Number.parseInt(process.env.BENCH_SCALE_SEMI_SPACE_MIB ?? String(WORKER_SEMI_SPACE_MIB), 10);
    if (semiMiB > 0) prof.push(`--max-semi-space-size=${semiMiB}`);
    // BENCH_SCALE_NODE_FLAGS="--trace-gc ...": more flags for the Archway process (diagnosis only).
    prof.push(...(process.env.BENCH_SCALE_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? []));
    const line = await runChild(process.execPath, [...prof, "bench/sync-scale-archway.mjs", inputFile], { cwd: root });
    const report = JSON.parse(line) as ArchwayReport;
    const { phases } = report;
    const features = Object.entries(FEATURES)
      .map(([k, on]) => `${k} ${on ? "on" : "off (not in main's sync yet)"}`)
      .join(", ");
    const writesBy = Object.entries(report.applyWrites)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ");
    const perCloud = Object.entries(report.replanByOperation)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, n]) => `${op} ${+(n / CLOUDS).toFixed(2)}`)
      .join(", ");
    appendBenchmark({
      title: `Sync scale SIMULATION: ${CLOUDS.toLocaleString("en")} clouds x ${PEOPLE.toLocaleString("en")} people (stand-in clouds, 5-20 ms per reply)`,
      command: "npm run bench -- sync-scale",
      markdown: markdownTable([
        [
          "phase",
          "seconds",
          "CPU seconds (Archway process)",
          "requests",
          "connects",
          "writes",
          "operations (planned / applied / assignments)",
          "peak heap MiB (garbage included)",
          "peak RSS MiB (Archway process)",
        ],
        ...phases.map((p) => [
          p.name,
          p.seconds.toFixed(2),
          p.cpuSeconds.toFixed(2),
          p.requests,
          p.connects,
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
        `+ ${OPERATORS} operators everywhere), ${CLOUDS + 1} policies; ${report.settings.concurrency} clouds at once, ` +
        `${report.settings.maxConcurrency} requests in flight per cloud over ${report.settings.connectionsPerService} ` +
        `sockets per service (sync.concurrency, maxConcurrency, connectionsPerService; the stand-in serves a cloud's ` +
        `services on one origin, so these are its sockets per cloud). New resources: ${features}. Apply writes by ` +
        `service: ${writesBy || "none"}. Requests per cloud of the ` +
        `converged replan: ${perCloud || "none"}. Archway runs in its own process (bench/sync-scale-archway.mjs: ` +
        `plain Node on dist/, ${heapMiB > 0 ? `--max-old-space-size=${heapMiB}` : "V8's default heap sizing"}, ` +
        `${semiMiB > 0 ? `--max-semi-space-size=${semiMiB}` : "V8's default semi-space"} (as the worker ships), ` +
        "its people and policies loaded from a file), the stand-in in another; peak RSS of the " +
        `Archway process over the whole run (kernel high-water mark): **${report.maxRssMiB.toFixed(0)} MiB** (targets: ` +
        `<= 512 MiB, apply <= 30 s, converged replan <= 5 s); building its config, policies and clients took ` +
        `${report.setupSeconds.toFixed(1)} s. On a shared machine wall seconds move with the load; CPU seconds of the ` +
        "Archway process much less.",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await standin.stop();
  }
}
