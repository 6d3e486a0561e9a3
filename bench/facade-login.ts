// Password login through Archway's /v3/auth/tokens (login guard, LDAP bind against the test environment's real
// slapd with groups, session, policy evaluation, ES256 token, catalog of three clouds) vs the same
// project-scoped password token issue on a real Keystone of the test environment (its SQL user, bcrypt, Fernet,
// catalog). One run, alternating rounds. Target: Archway >= 5x Keystone (it is bounded by the directory).
import { request } from "undici";
import { loadEndpoints } from "../test/env/endpoints.js";
import { personalProjectPolicy, startArchway } from "./lib/archway.js";
import { compareDrive, driveTable } from "./lib/drive.js";
import { passwordAuth } from "./lib/keystone.js";
import { appendBenchmark } from "./lib/report.js";

const CONCURRENCY = 8;
const ROUND_MS = 5_000;
const ROUNDS = 3;
const USERS = 900;
const user = (n: number) => `user${String((n % USERS) + 1).padStart(4, "0")}`;

/** POSTs a login and resolves true on 201 with a token. */
async function login(url: string, body: string): Promise<boolean> {
  const res = await request(url, { method: "POST", headers: { "content-type": "application/json" }, body });
  await res.body.dump();
  return res.statusCode === 201 && typeof res.headers["x-subject-token"] === "string";
}

export async function benchFacadeLogin(): Promise<void> {
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
    "policiesDir: policies\nidentity:\n  sources:\n" +
      `    - { id: corp, type: ldap, urls: ["${env.ldap.url}"], baseDn: "${env.ldap.baseDn}", userBaseDn: "${env.ldap.peopleDn}", ` +
      `groupBaseDn: "${env.ldap.groupsDn}", bindDn: "${env.ldap.bindDn}", bindPassword: "${env.ldap.bindPassword}", poolSize: ${CONCURRENCY} }\n` +
      `clouds:\n${clouds}`,
    { "personal.yaml": personalProjectPolicy("everyone") },
  );
  try {
    const archwayUrl = `${archway.url}/v3/auth/tokens`;
    const archwayBody = (n: number) =>
      JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: user(n), password: `pass-${user(n)}` } } },
          scope: { project: { name: `cloud-1:u-${user(n)}` } },
        },
      });
    const keystoneBody = passwordAuth(ks.adminUsername, ks.adminPassword, ks.adminProject);
    if (!(await login(archwayUrl, archwayBody(0)))) throw new Error("an Archway login that should succeed failed");
    const figures = await compareDrive(
      [
        { name: "archway POST /v3/auth/tokens (LDAP)", send: (n) => login(archwayUrl, archwayBody(n)) },
        { name: "keystone POST /v3/auth/tokens (SQL)", send: () => login(`${ks.authUrl}/auth/tokens`, keystoneBody) },
      ],
      { concurrency: CONCURRENCY, roundMs: ROUND_MS, rounds: ROUNDS },
    );
    const [a, k] = figures;
    appendBenchmark({
      title: "Password login: Archway facade (LDAP) vs Keystone",
      command: "npm run bench -- facade-login",
      markdown: driveTable(figures, "logins/s"),
      notes:
        `Archway / Keystone: **${(a!.rate / k!.rate).toFixed(1)}x** (target >= 5x). Both project-scoped with the ` +
        `catalog. Archway: ${USERS} different LDAP people (real slapd, group lookup), in-memory store, catalog of ` +
        `three clouds. Keystone cloud-1 of the test environment (uwsgi, one process, one thread, bcrypt rounds 4, ` +
        `\`Connection: close\`), admin logging in to its project. ${CONCURRENCY} logins in flight, ${ROUNDS} ` +
        `alternating rounds of ${ROUND_MS / 1000} s.`,
    });
  } finally {
    await archway.stop();
  }
}
