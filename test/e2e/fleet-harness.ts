import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { buildGateway, type Gateway, gatewayApp } from "../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../src/cli/runtime.js";
import { type RunningServer, startServer } from "../../src/http/index.js";
import { setJson } from "../../src/store/index.js";
import { recordCloudRun, type SavedPlan, SavedPlanSchema, writeStatus } from "../../src/sync/index.js";
import { deleteKeystoneDomain } from "../env/control.js";
import { type Endpoints, loadEndpoints } from "../env/endpoints.js";
import { captureIO } from "../helpers/io.js";

/** Archway over a stand-in fleet: the test env's real Keystones plus edge clouds on dead loopback ports. */
export interface FleetHarness {
  env: Endpoints;
  url: string;
  domain: string;
  runtime: Runtime;
  gateway: Gateway;
  server: RunningServer;
  cloudIds: string[];
  /** The configuration file Archway runs with (for the CLI beside the pages). */
  configFile: string;
  close(): Promise<void>;
}

/** Ports nothing listens on (connections are refused at once): the stand-in edge clouds. */
const DEAD_PORT_BASE = 41_000;

/**
 * Archway with `clouds` clouds: the real Keystones first (`cloud-1`...), then `edge-NNNN` clouds whose Keystones are
 * dead loopback ports, labelled `kind` (edge, or region for one in ten) and `country`. The real slapd is the `corp`
 * source; `web.admins` is the LDAP group `admins` (user0010), `web.auditors` names user0002. One policy gives
 * user0001 and user0010 `u-<username>` in cloud-1.
 */
export async function startFleet(
  port: number,
  clouds: number,
  /** More policy files by name, beside `devs`. */
  opts: { policies?: Record<string, string> } = {},
): Promise<FleetHarness> {
  const env = loadEndpoints();
  const dir = mkdtempSync(join(tmpdir(), "archway-fleet-"));
  const domain = `fleet-${randomBytes(4).toString("hex")}`;
  const admin = (k: Endpoints["keystones"][number]) =>
    `    admin: { username: ${k.adminUsername}, password: "${k.adminPassword}", projectName: ${k.adminProject} }\n`;
  const real = env.keystones.map(
    (k) =>
      `  - id: ${k.id}\n    authUrl: "${k.authUrl}"\n    region: ${k.region}\n    domain: ${domain}\n` +
      `    labels: { kind: region, country: de }\n${admin(k)}`,
  );
  const first = env.keystones[0]!;
  const edges = Array.from({ length: clouds - real.length }, (_, i) => {
    const id = `edge-${String(i + 1).padStart(4, "0")}`;
    const kind = i % 10 === 0 ? "region" : "edge";
    const country = ["de", "fr", "it", "es"][i % 4];
    return (
      `  - id: ${id}\n    authUrl: "http://127.0.0.1:${DEAD_PORT_BASE + i}/v3"\n    domain: ${domain}\n` +
      `    labels: { kind: ${kind}, country: ${country} }\n${admin(first)}`
    );
  });
  writeFileSync(
    join(dir, "archway.yaml"),
    `demo: true\nlisten: { host: 127.0.0.1, port: ${port} }\npublicUrl: http://127.0.0.1:${port}\n` +
      `secrets: { shadowPasswordKey: "${randomBytes(32).toString("base64url")}", sessionKey: "${randomBytes(32).toString("base64url")}" }\n` +
      "identity:\n  sources:\n    - id: corp\n      type: ldap\n      preset: openldap\n" +
      `      urls: ["${env.ldap.url}"]\n      baseDn: "${env.ldap.baseDn}"\n      userBaseDn: "${env.ldap.peopleDn}"\n` +
      `      groupBaseDn: "${env.ldap.groupsDn}"\n      bindDn: "${env.ldap.bindDn}"\n      bindPassword: "${env.ldap.bindPassword}"\n` +
      "web:\n  admins: { groups: { anyOf: [admins] } }\n  auditors: { usernames: [user0002] }\n" +
      `policiesDir: policies\nlog: { level: error }\nclouds:\n${[...real, ...edges].join("")}`,
  );
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "policies", "devs.yaml"),
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n" +
      "  subjects: { usernames: [user0001, user0010] }\n  clouds: { names: [cloud-1] }\n" +
      '  grants: [{ project: "u-{{ username }}", roles: [member] }]\n',
  );
  for (const [name, text] of Object.entries(opts.policies ?? {}))
    writeFileSync(join(dir, "policies", `${name}.yaml`), text);
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server = await startServer(app, { host: "127.0.0.1", port, log: runtime.log });
  return {
    env,
    url: server.url,
    domain,
    runtime,
    gateway,
    server,
    cloudIds: runtime.loaded.config.clouds.map((c) => c.id),
    configFile: join(dir, "archway.yaml"),
    async close() {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A deterministic spread of small numbers, so seeded data looks like a fleet and not like a pattern. */
const spread = (i: number, mod: number) => createHash("sha256").update(String(i)).digest().readUInt32BE(0) % mod;

/**
 * Seeds what sync would have written: the status of every cloud (most ok, some failing, degraded, refused, a few
 * never synced) and two weeks of run history (a run every 4 hours, with changes and the odd failure).
 */
export async function seedFleetState(h: FleetHarness): Promise<Record<string, number>> {
  const store = h.runtime.store;
  const now = Date.now();
  const states: Record<string, number> = { ok: 0, failing: 0, degraded: 0, refused: 0, never: 0 };
  for (let i = 14 * 24; i > 0; i -= 4) {
    const at = new Date(now - i * 3600_000).toISOString();
    const runId = `seed-${i}`;
    // Now and then a run did not happen (a worker restarted), and runs cover more or fewer clouds.
    if (spread(i, 6) === 0) continue;
    for (let j = 0; j < 10 + spread(i + 1, 25); j++) {
      const k = i * 31 + j;
      const fails = spread(k, 40) === 0;
      await recordCloudRun(store, {
        cloudId: h.cloudIds[j] ?? "cloud-1",
        lastRunId: runId,
        lastRunAt: at,
        applied: spread(k, 9) === 0 ? spread(k, 400) : spread(k, 6),
        ...(fails ? { lastErrorAt: at, failed: 1 } : {}),
      });
    }
  }
  const at = new Date(now - 10 * 60_000).toISOString();
  for (const [i, cloudId] of h.cloudIds.entries()) {
    const r = spread(i, 100);
    const base = { cloudId, lastRunAt: at, lastRunId: "seed-last" };
    if (r < 3) {
      states.never = (states.never ?? 0) + 1;
      continue;
    }
    if (r < 7)
      await writeStatus(store, {
        ...base,
        degraded: true,
        lastErrorAt: at,
        lastError: "cannot read the cloud: connect ECONNREFUSED",
      });
    else if (r < 9)
      await writeStatus(store, {
        ...base,
        refused: true,
        lastErrorAt: at,
        lastError: "over maxDeletesPerRun.perCloud",
      });
    else if (r < 15)
      await writeStatus(store, { ...base, lastSuccessAt: at, failed: 2, applied: 3, drift: { create: 5 } });
    else await writeStatus(store, { ...base, lastSuccessAt: at, applied: spread(i, 3) });
    const state = r < 7 ? "degraded" : r < 9 ? "refused" : r < 15 ? "failing" : "ok";
    states[state] = (states[state] ?? 0) + 1;
  }
  return states;
}

const hex = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Seeds a saved plan of `total` operations as `archway sync plan` would keep it (the store key of saved plans):
 * spread unevenly over the edge clouds, one cloud over the deletes limit, two clouds unreadable. Resolves its id.
 */
export async function seedLargePlan(h: FleetHarness, total: number): Promise<string> {
  const id = `20261206T060000000Z-${randomBytes(4).toString("hex")}`;
  const changing = h.cloudIds.slice(3, 303);
  const clouds: SavedPlan["clouds"] = h.cloudIds.slice(3).map((cloudId) => ({
    cloudId,
    desiredDigest: hex(`d${cloudId}`),
    planDigest: hex(`p${cloudId}`),
    counts: {},
    destructive: 0,
    overDeleteLimit: false,
    orphans: [],
    operations: [],
    problems: [],
  }));
  let left = total;
  let i = 0;
  while (left > 0) {
    const cloud = clouds[2 + (i % changing.length)]!;
    const person = `user${String(1 + spread(i, 999)).padStart(4, "0")}`;
    const r = spread(i, 20);
    const op =
      r < 9
        ? { action: "create", text: `grant member on u-${person} to ${person}`, policies: ["devs"] }
        : r < 13
          ? { action: "create", text: `create user ${person}`, policies: ["devs"] }
          : r < 16
            ? { action: "update", text: `update SSH keys of ${person} (1 added)`, policies: ["devs"] }
            : r < 18
              ? { action: "revoke", text: `revoke reader on ops from ${person}`, policies: [] }
              : r < 19
                ? { action: "disable", text: `disable user ${person} (no policy grants anything)`, policies: [] }
                : { action: "delete", text: `delete project u-${person} (grace period over)`, policies: [] };
    cloud.operations.push(op);
    cloud.counts[op.action] = (cloud.counts[op.action] ?? 0) + 1;
    if (op.action !== "create" && op.action !== "update") cloud.destructive++;
    left--;
    i += i % 7 === 0 ? 1 : spread(i, 3) + 1;
  }
  const over = clouds[4]!;
  over.overDeleteLimit = true;
  over.problems.push("project u-user0420 exists but was not made by Archway: left alone");
  const plan = SavedPlanSchema.parse({
    format: "archway-sync-plan/1",
    id,
    createdAt: new Date().toISOString(),
    clouds: clouds.slice(2),
    unavailable: clouds
      .slice(0, 2)
      .map((c) => ({ cloudId: c.cloudId, reason: "cannot read the cloud: connect ECONNREFUSED" })),
  });
  await setJson(h.runtime.store, `sync:plan:${id}`, plan, { ttlMs: 3600_000 });
  return id;
}

/** Signs a fleet person in with the login form (their password is `pass-<username>`) and returns the home page. */
export async function signInToFleet(h: FleetHarness, context: BrowserContext, username: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${h.url}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(`pass-${username}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${h.url}/`);
  return page;
}
