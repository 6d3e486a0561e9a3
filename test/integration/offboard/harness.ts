import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Attribute, Change, type Client } from "ldapts";
import { stringify } from "yaml";
import { buildGateway, type Gateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { scheduleSyncRuns } from "../../../src/cli/schedule.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { isLookupSource } from "../../../src/identity/index.js";
import { deleteKeystoneDomain, ldapAdmin } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { CLIENT, type Target } from "./paths.js";

/** The operator who may use `/admin` in the harness. */
export const ADMIN = "ob-operator";

/**
 * Archway in front of the test environment's three Keystones, with the real slapd as its `corp` source limited to
 * an organizational unit of this run, a Redis store under a key prefix of this run (so `archway offboard` run as
 * a separate command shares the sessions), departures looked for every `detectSeconds` (and heard of through
 * syncrepl when `syncrepl` is not off), and a policy giving each person `u-<username>` in every cloud.
 */
export interface OffboardHarness extends Target {
  env: Endpoints;
  url: string;
  domain: string;
  configFile: string;
  runtime: Runtime;
  gateway: Gateway;
  /** The LDAP people of this run live here. */
  ou: string;
  ldap: Client;
  addPerson(username: string, password: string): Promise<void>;
  removePerson(username: string): Promise<void>;
  /** Marks the person disabled in the directory (the configured disabledFilter, employeeType=disabled). */
  disablePerson(username: string): Promise<void>;
  enablePerson(username: string): Promise<void>;
  /** Locks the account with OpenLDAP ppolicy's `pwdAccountLockedTime` (the administrative, permanent lock). */
  lockPerson(username: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts the harness on `port` (Archway's own HTTP server, the schedules of a worker beside it). */
export async function startOffboardHarness(
  port: number,
  opts: { detectSeconds: number; syncrepl?: "auto" | "on" | "off" },
): Promise<OffboardHarness> {
  const env = loadEndpoints();
  const run = randomBytes(4).toString("hex");
  const dir = join(tmpdir(), `archway-offboard-${run}`);
  mkdirSync(join(dir, "policies"), { recursive: true });
  const domain = `offboard-${run}`;
  const keyPrefix = `archway-offboard-${run}:`;
  const ou = `ou=offboard-${run},${env.ldap.baseDn}`;
  const ldap = await ldapAdmin(env);
  await ldap.add(ou, { objectClass: ["organizationalUnit"], ou: `offboard-${run}` });
  const config = {
    deploymentId: "offboard-it",
    listen: { host: "127.0.0.1", port },
    publicUrl: `http://127.0.0.1:${port}`,
    store: { type: "redis", url: env.redis.url, keyPrefix },
    secrets: { shadowPasswordKey: randomBytes(16).toString("hex"), sessionKey: randomBytes(32).toString("hex") },
    identity: {
      sources: [
        {
          id: "corp",
          type: "ldap",
          preset: "openldap",
          urls: [env.ldap.url],
          baseDn: env.ldap.baseDn,
          userBaseDn: ou,
          groupBaseDn: env.ldap.groupsDn,
          bindDn: env.ldap.bindDn,
          bindPassword: env.ldap.bindPassword,
          disabledFilter: "(employeeType=disabled)",
          // The listing alone unless a test asks for content synchronisation (the test slapd serves it).
          syncrepl: opts.syncrepl ?? "off",
          timeoutMs: 3_000,
        },
      ],
    },
    idp: {
      clients: [
        {
          id: CLIENT.id,
          secret: CLIENT.secret,
          grants: ["password", "refresh_token"],
          scopes: ["openid", "offline_access"],
        },
      ],
    },
    clouds: env.keystones.map((k) => ({
      id: k.id,
      authUrl: k.authUrl,
      region: k.region,
      domain,
      timeoutMs: 3_000,
      admin: { username: k.adminUsername, password: k.adminPassword, projectName: k.adminProject },
    })),
    policiesDir: "policies",
    log: { level: "warn" },
    web: { admins: { usernames: [ADMIN] } },
    sync: { intervalSeconds: 900, incrementalSeconds: 0 },
    offboard: { detectSeconds: opts.detectSeconds, retrySeconds: 1 },
  };
  const configFile = join(dir, "archway.yaml");
  writeFileSync(configFile, stringify(config));
  writeFileSync(
    join(dir, "policies", "people.yaml"),
    stringify({
      apiVersion: "archway.dev/v1",
      kind: "AccessPolicy",
      metadata: { name: "people" },
      spec: {
        subjects: { sources: ["corp"] },
        grants: [{ project: "u-{{ username }}", roles: ["member"], create: true }],
        keys: false,
      },
    }),
  );
  const runtime = buildRuntime(configFile, captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port, log: runtime.log });
  // What `archway worker` runs beside the server: here only the look for departures matters.
  const stopSchedule = gateway.sync ? scheduleSyncRuns(runtime, gateway.sync, gateway.offboard) : () => {};
  const dn = (username: string) => `uid=${username},${ou}`;
  const people = new Set<string>();
  return {
    env,
    url: server.url,
    domain,
    configFile,
    runtime,
    gateway,
    ou,
    ldap,
    async storeGet(key) {
      const raw = await runtime.store.get(key);
      // The broker seals the Keystone tokens it caches (bound to their key).
      return raw?.startsWith("seal1.") ? runtime.sealer.open(raw, key).plaintext : raw;
    },
    async identityId(username) {
      const source = runtime.sources[0];
      const found = source && isLookupSource(source) ? await source.lookup(username) : null;
      if (!found) throw new Error(`${username} not found in slapd`);
      return found.id;
    },
    async addPerson(username, password) {
      await ldap.add(dn(username), {
        objectClass: ["inetOrgPerson"],
        uid: username,
        cn: username,
        sn: username,
        mail: `${username}@example.org`,
        userPassword: password,
      });
      people.add(username);
    },
    async removePerson(username) {
      await ldap.del(dn(username));
      people.delete(username);
    },
    async disablePerson(username) {
      await ldap.modify(
        dn(username),
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "employeeType", values: ["disabled"] }),
        }),
      );
    },
    async enablePerson(username) {
      await ldap.modify(
        dn(username),
        new Change({ operation: "delete", modification: new Attribute({ type: "employeeType", values: [] }) }),
      );
    },
    async lockPerson(username) {
      await ldap.modify(
        dn(username),
        new Change({
          operation: "replace",
          modification: new Attribute({ type: "pwdAccountLockedTime", values: ["000001010000Z"] }),
        }),
      );
    },
    async close() {
      stopSchedule();
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      for (const p of people) await ldap.del(dn(p)).catch(() => {});
      await ldap.del(ou).catch(() => {});
      await ldap.unbind();
      await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
      await deleteRedisPrefix(env.redis.url, keyPrefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes the keys under one prefix only (SCAN, never FLUSHDB: the Redis is shared). */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
