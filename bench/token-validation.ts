// Token validation (GET /v3/auth/tokens: two JWT verifications, two revocation and session look-ups, policy
// evaluation) through Archway's facade vs a bare Hono hello world (the ceiling; target >= 0.6) and vs a real
// Keystone validating its own token, one run, alternating rounds.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { hashPassword } from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { compareHttp, httpTable } from "./lib/http-compare.js";
import { spawnServer } from "./lib/process.js";
import { appendBenchmark } from "./lib/report.js";

const root = resolve(import.meta.dirname, "..");

async function keystoneToken(authUrl: string, password: string): Promise<string> {
  const res = await fetch(`${authUrl}/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: { methods: ["password"], password: { user: { name: "admin", domain: { id: "default" }, password } } },
        scope: { project: { name: "admin", domain: { id: "default" } } },
      },
    }),
  });
  return res.headers.get("x-subject-token") ?? "";
}

export async function benchTokenValidation(): Promise<void> {
  const env = loadEndpoints();
  const dir = mkdtempSync(join(tmpdir(), "archway-bench-"));
  const port = 18191;
  const ks = env.keystones[0]!;
  writeFileSync(
    join(dir, "archway.yaml"),
    // demo: the test Keystones' admin password is the public demo one (config/secrets/demo-cloud-admin).
    `demo: true\nlisten: { host: 127.0.0.1, port: ${port} }\npublicUrl: http://127.0.0.1:${port}\nlog: { level: warn }\npoliciesDir: policies\n` +
      `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n` +
      `clouds:\n  - id: cloud-1\n    authUrl: "${ks.authUrl}"\n    admin: { username: admin, password: "${ks.adminPassword}" }\n`,
  );
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "p.yaml"),
    'apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: p }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: "u-{{ username }}", roles: [member] }]\n',
  );
  const archway = await spawnServer(
    "archway",
    process.execPath,
    ["dist/main.js", "serve", "--config", join(dir, "archway.yaml")],
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
    const login = await fetch(`${archway.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } },
          scope: { project: { name: "cloud-1:u-alice" } },
        },
      }),
    });
    const token = login.headers.get("x-subject-token") ?? "";
    if (login.status !== 201) throw new Error(`archway login failed: ${login.status} ${await login.text()}`);
    const ksToken = await keystoneToken(ks.authUrl, ks.adminPassword);
    const figures = await compareHttp(
      [
        {
          name: "archway GET /v3/auth/tokens",
          url: `${archway.url}/v3/auth/tokens?nocatalog`,
          headers: { "x-auth-token": token, "x-subject-token": token },
          pid: archway.pid,
        },
        { name: "bare hono", url: `${hono.url}/`, pid: hono.pid },
        {
          name: "keystone GET /v3/auth/tokens",
          url: `${ks.authUrl}/auth/tokens?nocatalog`,
          headers: { "x-auth-token": ksToken, "x-subject-token": ksToken },
        },
      ],
      { connections: 10, duration: 4, rounds: 2 },
    );
    const [a, h, k] = figures;
    // Bare Hono's CPU per request over Archway's: the same ratio when both are CPU-bound, and it moves far less
    // than req/s when other work shares the cores.
    const cpuRatio = a?.cpuUs && h?.cpuUs ? `; by server CPU per request: **${(h.cpuUs / a.cpuUs).toFixed(2)}**` : "";
    appendBenchmark({
      title: "Token validation: Archway facade vs bare Hono and Keystone",
      command: "npm run bench -- token-validation",
      markdown: httpTable(figures),
      notes: `Archway / bare Hono: **${(a!.rps / h!.rps).toFixed(2)}** (target >= 0.6${cpuRatio}); Archway / Keystone: **${(a!.rps / k!.rps).toFixed(1)}x**. autocannon -c 10, 2 alternating rounds of 4 s; Archway on its in-memory store; Keystone cloud-1 of the test environment (uwsgi, one process, cache on).`,
    });
  } finally {
    await Promise.all([archway.stop(), hono.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
