// Re-scoping with the token method (what keystoneauth does to switch projects): through Archway's facade, a
// token scoped to a project in cloud-1 re-scoped to the person's project in cloud-2; on a real Keystone of the
// test environment, a project-scoped token re-scoped to another project there. Both with the catalog. One run,
// alternating rounds, driven by wrk from its own process. Target: Archway >= 50x Keystone.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { request } from "undici";
import { hashPassword } from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { personalProjectPolicy, startArchway } from "./lib/archway.js";
import { keystoneAdmin, keystoneLogin, passwordAuth } from "./lib/keystone.js";
import { appendBenchmark } from "./lib/report.js";
import { compareWrk, wrkTable } from "./lib/wrk.js";

const CONCURRENCY = 8;
const ROUND_SECONDS = 5;
const ROUNDS = 3;

/** The PID of the test environment's first Keystone (its uwsgi master), for its CPU per request; if recorded. */
function keystonePid(): number | undefined {
  try {
    return Number(readFileSync(resolve(import.meta.dirname, "../.testenv/pids/keystone-1.pid"), "utf8").trim());
  } catch {
    return undefined;
  }
}

/** POSTs an auth request and resolves the new token on 201, else null. */
async function authenticate(url: string, body: string): Promise<string | null> {
  const res = await request(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  await res.body.dump();
  const token = res.headers["x-subject-token"];
  return res.statusCode === 201 && typeof token === "string" ? token : null;
}

const tokenAuth = (token: string, project: { name: string; domain?: { id: string } }) =>
  JSON.stringify({ auth: { identity: { methods: ["token"], token: { id: token } }, scope: { project } } });

export async function benchFacadeRescope(): Promise<void> {
  const env = loadEndpoints();
  const ks = env.keystones[0]!;
  const clouds = env.keystones
    .map(
      (k) =>
        `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n` +
        `    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`,
    )
    .join("");
  const archway = await startArchway(
    "policiesDir: policies\nidentity:\n  sources:\n    - id: demo\n      type: static\n      users:\n" +
      `        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n` +
      `clouds:\n${clouds}`,
    { "personal.yaml": personalProjectPolicy("devs") },
  );
  // Keystone's second project: the admin gets its admin role there for this run only.
  const admin = await keystoneLogin(ks.authUrl, passwordAuth(ks.adminUsername, ks.adminPassword, ks.adminProject));
  const projectName = `bench-rescope-${randomBytes(4).toString("hex")}`;
  let projectId: string | undefined;
  try {
    const created = await keystoneAdmin<{ project: { id: string } }>(ks.authUrl, admin, "POST", "/projects", {
      project: { name: projectName, domain_id: "default" },
    });
    projectId = created!.project.id;
    const ids = async (kind: "users" | "roles", name: string) =>
      (await keystoneAdmin<Record<string, { id: string }[]>>(ks.authUrl, admin, "GET", `/${kind}?name=${name}`))![
        kind
      ]![0]!.id;
    const userId = await ids("users", ks.adminUsername);
    const roleId = await ids("roles", "admin");
    await keystoneAdmin(ks.authUrl, admin, "PUT", `/projects/${projectId}/users/${userId}/roles/${roleId}`);

    const archwayUrl = `${archway.url}/v3/auth/tokens`;
    const archwayToken = await authenticate(
      archwayUrl,
      JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } },
          scope: { project: { name: "cloud-1:u-alice" } },
        },
      }),
    );
    if (!archwayToken) throw new Error("archway login failed");
    const archwayBody = tokenAuth(archwayToken, { name: "cloud-2:u-alice" });
    const keystoneToken = await keystoneLogin(
      ks.authUrl,
      passwordAuth(ks.adminUsername, ks.adminPassword, ks.adminProject),
    );
    const keystoneBody = tokenAuth(keystoneToken, { name: projectName, domain: { id: "default" } });
    for (const [url, body] of [
      [archwayUrl, archwayBody],
      [`${ks.authUrl}/auth/tokens`, keystoneBody],
    ] as const) {
      if (!(await authenticate(url, body))) throw new Error(`a re-scope that should succeed failed at ${url}`);
    }
    const json = { "content-type": "application/json" };
    const figures = await compareWrk(
      [
        {
          name: "archway token method, cloud-1 -> cloud-2",
          url: archwayUrl,
          method: "POST",
          headers: json,
          body: archwayBody,
          pid: archway.pid,
        },
        {
          name: "keystone token method, admin -> 2nd project",
          url: `${ks.authUrl}/auth/tokens`,
          method: "POST",
          headers: json,
          body: keystoneBody,
          pid: keystonePid(),
        },
      ],
      { connections: CONCURRENCY, duration: ROUND_SECONDS, rounds: ROUNDS, warmup: 1 },
    );
    const [a, k] = figures;
    if (!a || !k || a.failures > 0 || k.failures > 0) throw new Error(`re-scopes failed: ${JSON.stringify(figures)}`);
    const cpuRatio = a.cpuUs && k.cpuUs ? ` By server CPU per re-scope: **${(k.cpuUs / a.cpuUs).toFixed(1)}x**.` : "";
    appendBenchmark({
      title: "Re-scoping with the token method: Archway facade vs Keystone",
      command: "npm run bench -- facade-rescope",
      markdown: wrkTable(figures, "re-scopes/s"),
      notes:
        `Archway / Keystone: **${(a.rps / k.rps).toFixed(1)}x** (target >= 50x).${cpuRatio} Both issue a new ` +
        `project-scoped token with the catalog. Archway: static user, in-memory store, three clouds; the facade's ` +
        `re-scope never calls a cloud (the broker is only asked at the proxy), so its cache plays no part here. ` +
        `Keystone cloud-1 of the test environment (uwsgi, one process, one thread, cache on, \`Connection: close\`). ` +
        `wrk (one thread, ${CONCURRENCY} connections, its own process), ${ROUNDS} alternating rounds of ${ROUND_SECONDS} s; ` +
        "server CPU counts every thread of the process (Archway signs on the thread pool while requests queue) " +
        "and, for Keystone, its uwsgi worker.",
    });
  } finally {
    await archway.stop();
    if (projectId) await keystoneAdmin(ks.authUrl, admin, "DELETE", `/projects/${projectId}`).catch(() => undefined);
  }
}
