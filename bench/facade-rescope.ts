// Re-scoping with the token method (what keystoneauth does to switch projects): through Archway's facade, a
// token scoped to a project in cloud-1 re-scoped to the person's project in cloud-2; on a real Keystone of the
// test environment, a project-scoped token re-scoped to another project there. Both with the catalog. One run,
// alternating rounds. Target: Archway >= 50x Keystone.
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { hashPassword } from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { personalProjectPolicy, startArchway } from "./lib/archway.js";
import { compareDrive, driveTable } from "./lib/drive.js";
import { keystoneAdmin, keystoneLogin, passwordAuth } from "./lib/keystone.js";
import { appendBenchmark } from "./lib/report.js";

const CONCURRENCY = 8;
const ROUND_MS = 5_000;
const ROUNDS = 3;

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
    const figures = await compareDrive(
      [
        {
          name: "archway token method, cloud-1 -> cloud-2",
          send: async () => (await authenticate(archwayUrl, archwayBody)) !== null,
        },
        {
          name: "keystone token method, admin -> 2nd project",
          send: async () => (await authenticate(`${ks.authUrl}/auth/tokens`, keystoneBody)) !== null,
        },
      ],
      { concurrency: CONCURRENCY, roundMs: ROUND_MS, rounds: ROUNDS },
    );
    const [a, k] = figures;
    appendBenchmark({
      title: "Re-scoping with the token method: Archway facade vs Keystone",
      command: "npm run bench -- facade-rescope",
      markdown: driveTable(figures, "re-scopes/s"),
      notes:
        `Archway / Keystone: **${(a!.rate / k!.rate).toFixed(1)}x** (target >= 50x). Both issue a new ` +
        `project-scoped token with the catalog. Archway: static user, in-memory store, three clouds; the facade's ` +
        `re-scope never calls a cloud (the broker is only asked at the proxy), so its cache plays no part here. ` +
        `Keystone cloud-1 of the test environment (uwsgi, one process, one thread, cache on, \`Connection: close\`). ` +
        `${CONCURRENCY} requests in flight, ${ROUNDS} alternating rounds of ${ROUND_MS / 1000} s.`,
    });
  } finally {
    await archway.stop();
    if (projectId) await keystoneAdmin(ks.authUrl, admin, "DELETE", `/projects/${projectId}`).catch(() => undefined);
  }
}
