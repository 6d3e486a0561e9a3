// A hanging or down cloud must degrade only itself (issue 23, item 1). Three Archways side by side, each with the
// healthy real cloud-1 of the test environment plus 0, 1 (hanging) or 10 (5 hanging, 5 down) bad clouds in its
// inventory, all with default timeouts and breaker settings; the person's project spans every cloud, so every
// login's catalog names the bad clouds too. Measured: password login with the catalog, and a request proxied to
// cloud-1's real Nova, alternating rounds between the three. Target: p99 with bad clouds within 2x of p99 without.
// The bad clouds are stand-ins: TCP servers that accept and never answer, and loopback ports nothing listens on.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { hashPassword } from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { closedPort, type HangingServer, startHangingServer } from "../test/integration/faults/hanging-server.js";
import { type BenchArchway, personalProjectPolicy, startArchway } from "./lib/archway.js";
import { compareDrive, type DriveFigures } from "./lib/drive.js";
import { deleteDomain, keystoneLogin, passwordAuth } from "./lib/keystone.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

const CONCURRENCY = 4;
const ROUND_MS = 4_000;
const ROUNDS = 3;
const SCENARIOS = [
  { name: "0 bad clouds", hanging: 0, down: 0 },
  { name: "1 bad cloud (hanging)", hanging: 1, down: 0 },
  { name: "10 bad clouds (5 hanging, 5 down)", hanging: 5, down: 5 },
];

export async function benchFaults(): Promise<void> {
  const env = loadEndpoints();
  const ks = env.keystones[0]!;
  const nova = env.novas.find((n) => n.cloud === ks.id)!;
  const run = `bench-faults-${randomBytes(4).toString("hex")}`;
  const key = randomBytes(32).toString("base64url");
  const hash = await hashPassword("pw", { N: 1024 });
  const hanging: HangingServer[] = [];
  const archways: BenchArchway[] = [];
  const dirs: string[] = [];
  const admin = (k: typeof ks) =>
    `admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }`;
  try {
    for (const s of SCENARIOS) {
      const bad: string[] = [];
      for (let i = 0; i < s.hanging; i++) {
        const server = await startHangingServer();
        hanging.push(server);
        bad.push(`  - { id: hung-${i}, authUrl: "${server.url}/v3", domain: ${run}, ${admin(ks)} }\n`);
      }
      for (let i = 0; i < s.down; i++)
        bad.push(
          `  - { id: down-${i}, authUrl: "http://127.0.0.1:${await closedPort()}/v3", domain: ${run}, ${admin(ks)} }\n`,
        );
      const dir = mkdtempSync(join(tmpdir(), "archway-bench-faults-"));
      dirs.push(dir);
      writeFileSync(join(dir, "bad.yaml"), `clouds:\n${bad.join("")}`);
      archways.push(
        await startArchway(
          `policiesDir: policies\nsecrets: { shadowPasswordKey: "${key}" }\n` +
            "identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n" +
            `        - { username: alice, passwordHash: "${hash}", groups: [devs] }\n` +
            `clouds:\n  - { id: ${ks.id}, authUrl: "${ks.authUrl}", region: ${ks.region}, domain: ${run}, ${admin(ks)} }\n` +
            (bad.length > 0 ? `cloudsDir: ${dir}\n` : ""),
          { "personal.yaml": personalProjectPolicy("devs") },
        ),
      );
    }
    const loginBody = JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } },
        scope: { project: { name: "u-alice" } },
      },
    });
    const login = async (url: string): Promise<{ ok: boolean; token?: string; body: string }> => {
      const res = await request(`${url}/v3/auth/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: loginBody,
      });
      const body = await res.body.text();
      const token = res.headers["x-subject-token"];
      return { ok: res.statusCode === 201 && body.includes('"compute"'), token: token as string, body };
    };
    // The first catalog login of each fresh process, timed alone.
    const firstMs: number[] = [];
    const tokens: string[] = [];
    for (const a of archways) {
      const t = performance.now();
      const first = await login(a.url);
      firstMs.push(performance.now() - t);
      if (!first.token) throw new Error(`login failed on ${a.url}: ${first.body.slice(0, 300)}`);
      tokens.push(first.token);
    }
    const proxied = (i: number) => `${archways[i]!.url}/clouds/${ks.id}/compute${new URL(nova.url).pathname}/`;
    // The first proxied call provisions alice's shadow user in cloud-1 just in time; each process fills its broker.
    for (let i = 0; i < archways.length; i++) {
      for (let attempt = 0; ; attempt++) {
        const res = await request(proxied(i), { headers: { "x-auth-token": tokens[i]! } });
        const text = await res.body.text();
        if (res.statusCode === 200) break;
        if (attempt > 20) throw new Error(`proxied call failed: ${res.statusCode} ${text.slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const logins = await compareDrive(
      archways.map((a, i) => ({ name: SCENARIOS[i]!.name, send: async () => (await login(a.url)).ok })),
      { concurrency: CONCURRENCY, roundMs: ROUND_MS, rounds: ROUNDS },
    );
    const proxies = await compareDrive(
      archways.map((_, i) => ({
        name: SCENARIOS[i]!.name,
        send: async () => {
          const res = await request(proxied(i), { headers: { "x-auth-token": tokens[i]! } });
          await res.body.dump();
          return res.statusCode === 200;
        },
      })),
      { concurrency: CONCURRENCY, roundMs: ROUND_MS, rounds: ROUNDS },
    );
    const ratio = (f: DriveFigures[], i: number) => (f[i]!.p99 / f[0]!.p99).toFixed(2);
    const rows = SCENARIOS.map((s, i) => [
      s.name,
      firstMs[i]!.toFixed(0),
      logins[i]!.p50.toFixed(1),
      logins[i]!.p99.toFixed(1),
      ratio(logins, i),
      logins[i]!.failures,
      proxies[i]!.p50.toFixed(1),
      proxies[i]!.p99.toFixed(1),
      ratio(proxies, i),
      proxies[i]!.failures,
    ]);
    // Over the scenarios with bad clouds only.
    const worst = Math.max(
      ...SCENARIOS.slice(1).map((_, j) => Math.max(Number(ratio(logins, j + 1)), Number(ratio(proxies, j + 1)))),
    );
    appendBenchmark({
      title: "Faults: a healthy cloud beside 0, 1 and 10 bad clouds (hanging or down)",
      command: "npm run bench -- faults",
      markdown: markdownTable([
        [
          "inventory besides cloud-1",
          "first catalog login ms (fresh process)",
          "login p50 ms",
          "login p99 ms",
          "login p99 / 0 bad",
          "login failures",
          "proxied p50 ms",
          "proxied p99 ms",
          "proxied p99 / 0 bad",
          "proxied failures",
        ],
        ...rows,
      ]),
      notes:
        `Worst p99 ratio vs 0 bad clouds: **${worst.toFixed(2)}x** (target <= 2x). Login: password (static user), ` +
        "scoped to a project held in every cloud of the inventory, with its catalog. Proxied: GET of cloud-1's real " +
        `Nova version document through /clouds/${ks.id}/compute, brokered token cached. Bad clouds: TCP servers that ` +
        "accept and never answer (hanging), loopback ports nothing listens on (down); default timeouts (10 s) and " +
        `breaker settings; in-memory store. Three Archway processes side by side, ${CONCURRENCY} requests in flight, ` +
        `${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s each.`,
    });
  } finally {
    for (const a of archways) await a.stop().catch(() => undefined);
    for (const s of hanging) await s.stop().catch(() => undefined);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    const token = await keystoneLogin(ks.authUrl, passwordAuth(ks.adminUsername, ks.adminPassword, ks.adminProject));
    await deleteDomain(ks.authUrl, token, run).catch(() => undefined);
  }
}
