// Offboarding: how long a person who left keeps any way in. Against the real slapd, the three real Keystones and
// nova-api, with the compiled gateway (`archway serve`) and a worker (`archway worker`, which looks for departures
// every offboard.detectSeconds, default 60 s) on a Redis store: 20 people who used every path (facade login and
// token, a proxied Nova request, web sign-in, an OAuth refresh token, brokered Keystone tokens and application
// credentials in two clouds) are removed from slapd at moments spread over one detection interval, and 20 more are
// cut off with `archway offboard` (a separate process, its start-up included); each is timed from the change to
// the last path refused. The same departures again with the worker listening to slapd through RFC 4533 content
// synchronisation (syncrepl, the listing still every 60 s as the backstop), one at a time. Then, on 1,000 stand-in clouds (bench/peers/keystone-standin.ts, 5-20 ms per reply),
// the time from the look that finds a departure to every cloud done.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { stringify } from "yaml";
import type { AccountListSource, Identity } from "../src/identity/index.js";
import type * as OffboardModule from "../src/offboard/index.js";
import type * as TokensModule from "../src/tokens/index.js";
import { deleteKeystoneDomain, ldapAdmin } from "../test/env/control.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { CLIENT, enrol, type Held, type Target, untilRefused } from "../test/integration/offboard/paths.js";
import { freePort } from "./lib/archway.js";
import { spawnServer } from "./lib/process.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import { archwaySync, CloudSchema, MemoryStore, mapLimit } from "./lib/sync.js";

const PEOPLE = Number(process.env.BENCH_OFFBOARD_PEOPLE ?? 20);
const STANDIN_CLOUDS = Number(process.env.BENCH_OFFBOARD_CLOUDS ?? 1000);
const DETECT_SECONDS = 60;
/** `syncrepl`: only the syncrepl departures (the other rows take minutes). */
const ONLY = process.env.BENCH_OFFBOARD_ONLY;
const root = resolve(import.meta.dirname, "..");
const run = promisify(execFile);
const names = (prefix: string) => Array.from({ length: PEOPLE }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);
// A variable, so TypeScript takes the type above and does not try to resolve the compiled file.
const offboardModule = "../dist/offboard/index.js";
const { createOffboard } = (await import(offboardModule)) as typeof OffboardModule;
const tokensModule = "../dist/tokens/index.js";
const { storeSealer } = (await import(tokensModule)) as typeof TokensModule;

interface Row {
  what: string;
  samples: number[];
  target: string;
  note?: string;
}

/** Nearest-rank percentile (p99 of 20 samples is the largest). */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function realClouds(detection: "listing" | "syncrepl"): Promise<Row[]> {
  const env = loadEndpoints();
  const tag = randomBytes(4).toString("hex");
  const dir = join(tmpdir(), `archway-bench-offboard-${tag}`);
  mkdirSync(join(dir, "policies"), { recursive: true });
  const keyPrefix = `archway-bench-offboard-${tag}:`;
  const domain = `bench-offboard-${tag}`;
  const ou = `ou=bench-offboard-${tag},${env.ldap.baseDn}`;
  const ldap = await ldapAdmin(env);
  await ldap.add(ou, { objectClass: ["organizationalUnit"], ou: `bench-offboard-${tag}` });
  const redis = new Redis(env.redis.url, { keyPrefix });
  const port = await freePort();
  const shadowPasswordKey = randomBytes(32).toString("hex");
  // The broker seals the Keystone tokens it caches with a key derived from this one.
  const sealer = storeSealer({ shadowPasswordKey });
  writeFileSync(
    join(dir, "archway.yaml"),
    stringify({
      // The test Keystones' admin password is the public demo one.
      demo: true,
      listen: { host: "127.0.0.1", port },
      publicUrl: `http://127.0.0.1:${port}`,
      store: { type: "redis", url: env.redis.url, keyPrefix },
      secrets: { shadowPasswordKey, sessionKey: randomBytes(32).toString("hex") },
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
            syncrepl: detection === "syncrepl" ? "on" : "off",
          },
        ],
      },
      idp: { clients: [{ id: CLIENT.id, secret: CLIENT.secret, grants: ["password", "refresh_token"] }] },
      clouds: env.keystones.map((k) => ({
        id: k.id,
        authUrl: k.authUrl,
        region: k.region,
        domain,
        admin: { username: k.adminUsername, password: k.adminPassword, projectName: k.adminProject },
      })),
      policiesDir: "policies",
      log: { level: "warn" },
      sync: { intervalSeconds: 900, incrementalSeconds: 0 },
      offboard: { detectSeconds: DETECT_SECONDS },
    }),
  );
  writeFileSync(
    join(dir, "policies", "people.yaml"),
    stringify({
      apiVersion: "archway.dev/v1",
      kind: "AccessPolicy",
      metadata: { name: "people" },
      spec: {
        subjects: { sources: ["corp"] },
        grants: [{ project: "u-{{ username }}", roles: ["member"], create: true }],
      },
    }),
  );
  const config = join(dir, "archway.yaml");
  const cli = (args: string[], ready: RegExp) =>
    spawnServer(args[0] as string, process.execPath, ["dist/main.js", ...args, "--config", config], ready, {
      cwd: root,
      timeoutMs: 60_000,
    });
  const serve = await cli(["serve"], /Archway listening on (http:\/\/\S+)/);
  const worker = await cli(["worker", "--concurrency", "2"], /archway worker: (ready)/);
  const dn = (u: string) => `uid=${u},${ou}`;
  const target: Target = {
    url: serve.url,
    env,
    domain,
    addPerson: (u, password) =>
      ldap.add(dn(u), {
        objectClass: ["inetOrgPerson"],
        uid: u,
        cn: u,
        sn: u,
        mail: `${u}@example.org`,
        userPassword: password,
      }),
    async storeGet(key) {
      const raw = await redis.get(key);
      return raw?.startsWith("seal1.") ? sealer.open(raw, key).plaintext : raw;
    },
    async identityId(u) {
      const { searchEntries } = await ldap.search(dn(u), { scope: "base", attributes: ["entryUUID"] });
      return `corp:${String(searchEntries[0]?.entryUUID)}`;
    },
  };
  const removed = new Set<string>();
  try {
    if (detection === "syncrepl") {
      console.log(`enrolling ${PEOPLE} people (every path)...`);
      const leavers = await mapLimit(names("sync"), 4, (u) => enrol(target, u));
      // One at a time: each is timed alone, polled every 500 ms.
      const seconds: number[] = [];
      for (const p of leavers) {
        const since = Date.now();
        await ldap.del(dn(p.username));
        removed.add(p.username);
        const r = await untilRefused(target, p, { since, deadlineSeconds: DETECT_SECONDS * 2 + 30, pollMs: 500 });
        if (r.open.length > 0) throw new Error(`syncrepl departure: ${p.username} still has ${r.open.join(", ")}`);
        seconds.push(r.seconds);
      }
      console.log(`syncrepl departures: ${seconds.map((s) => s.toFixed(1)).join(" ")}`);
      return [
        {
          what: `removed from slapd -> last path refused, heard through syncrepl (refreshAndPersist; listing every ${DETECT_SECONDS} s as the backstop; 3 real clouds)`,
          samples: seconds,
          target: "<= 10 s",
          note: "polled every 500 ms",
        },
      ];
    }
    console.log(`enrolling ${PEOPLE * 2} people (every path)...`);
    const leavers = await mapLimit(names("gone"), 4, (u) => enrol(target, u));
    const killed = await mapLimit(names("kill"), 4, (u) => enrol(target, u));

    // The kill switch needs no earlier look, so it runs while the worker's look takes the leavers in.
    const killSeconds: number[] = [];
    for (const p of killed) {
      const since = Date.now();
      const done = run(process.execPath, ["dist/main.js", "offboard", `${p.username}@corp`, "--config", config], {
        cwd: root,
        timeout: 60_000,
      });
      const [r] = await Promise.all([untilRefused(target, p, { since, deadlineSeconds: 60 }), done]);
      if (r.open.length > 0) throw new Error(`kill switch: ${p.username} still has ${r.open.join(", ")}`);
      killSeconds.push(r.seconds);
    }
    console.log(`kill switch: ${killSeconds.map((s) => s.toFixed(1)).join(" ")}`);

    // Wait for a look that lists every leaver: only then is their removal a departure.
    const ids = new Set(leavers.map((p) => p.identityId));
    for (let i = 0; i < DETECT_SECONDS * 2 + 10; i++) {
      const snap = JSON.parse((await redis.get("offboard:accounts:corp")) ?? "{}") as { accounts?: object };
      if ([...ids].every((id) => id in (snap.accounts ?? {}))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    // Removals spread over one interval: each lands at a different point of the worker's cycle.
    const spacing = (DETECT_SECONDS * 1000) / PEOPLE;
    const goneSeconds = await Promise.all(
      leavers.map(async (p: Held, i) => {
        await new Promise((r) => setTimeout(r, i * spacing));
        const since = Date.now();
        await ldap.del(dn(p.username));
        removed.add(p.username);
        const r = await untilRefused(target, p, { since, deadlineSeconds: DETECT_SECONDS * 2 + 30, pollMs: 2000 });
        if (r.open.length > 0) throw new Error(`departure: ${p.username} still has ${r.open.join(", ")}`);
        return r.seconds;
      }),
    );
    console.log(`departures: ${goneSeconds.map((s) => s.toFixed(1)).join(" ")}`);
    return [
      {
        what: `removed from slapd -> last path refused (offboard.detectSeconds ${DETECT_SECONDS}, 3 real clouds)`,
        samples: goneSeconds,
        target: "<= 60 s",
        note: "polled every 2 s",
      },
      {
        what: "`archway offboard` (kill switch, its process start included) -> last path refused (3 real clouds)",
        samples: killSeconds,
        target: "<= 10 s",
      },
    ];
  } finally {
    await worker.stop();
    await serve.stop();
    for (const u of [...names("gone"), ...names("kill"), ...names("sync")])
      if (!removed.has(u)) await ldap.del(dn(u)).catch(() => {});
    await ldap.del(ou).catch(() => {});
    await ldap.unbind();
    redis.disconnect();
    const plain = new Redis(env.redis.url);
    const keys = await plain.keys(`${keyPrefix}*`);
    if (keys.length > 0) await plain.del(...keys);
    plain.disconnect();
    await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 1,000 stand-in clouds where 10 operators have a shadow user with an application credential each. */
async function standinClouds(): Promise<Row[]> {
  const standin = await spawnServer(
    "keystone stand-in",
    process.execPath,
    ["--import", "tsx", "bench/peers/keystone-standin.ts"],
    /listening on (http:\/\/\S+)/,
    { cwd: root },
  );
  try {
    const site = (i: number) => `site-${String(i).padStart(4, "0")}`;
    const clouds = Array.from({ length: STANDIN_CLOUDS }, (_, i) =>
      CloudSchema.parse({
        id: site(i),
        authUrl: `${standin.url}/${site(i)}/v3`,
        admin: { username: "a", password: "s" },
      }),
    );
    const people: Identity[] = Array.from({ length: 10 }, (_, i) => ({
      id: `corp:op${i}`,
      source: "bench",
      username: `op${i}`,
      groups: ["ops"],
      groupDns: [],
      sshKeys: [],
      attributes: {},
    }));
    const { sync, config } = archwaySync({
      clouds,
      people,
      policiesYaml:
        "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ops }\nspec:\n" +
        '  subjects: { groups: { anyOf: [ops] } }\n  clouds: { names: ["*"] }\n' +
        "  grants: [{ project: ops, roles: [admin], create: true }]\n",
    });
    try {
      console.log(`provisioning 10 operators in ${STANDIN_CLOUDS} stand-in clouds...`);
      await sync.service.full();
      let listed = people.map((p) => ({ id: p.id, username: p.username, disabled: false }));
      const source: AccountListSource = {
        id: "corp",
        type: "ldap",
        ping: async () => {},
        close: async () => {},
        async *accounts() {
          yield* listed;
        },
      };
      const service = createOffboard({
        config,
        store: new MemoryStore(),
        audit: async () => {},
        sources: [source],
        clients: sync.clients,
        sessions: { endPerson: async () => 0 },
        purgeBrokerCache: async () => {},
      });
      await service.tick(); // the baseline listing
      const timeTick = async (leaving: number) => {
        listed = listed.slice(leaving);
        const start = performance.now();
        const result = await service.tick();
        const seconds = (performance.now() - start) / 1000;
        const clouds = result.reports.flatMap((r) => r.clouds);
        const notDone = clouds.filter((c) => c.state !== "done");
        if (result.reports.length !== leaving || notDone.length > 0)
          throw new Error(`stand-in: ${result.reports.length} reports, ${notDone.length} clouds not done`);
        return seconds;
      };
      const one = await timeTick(1);
      const nine = await timeTick(9);
      console.log(`stand-in: 1 person ${one.toFixed(1)} s, 9 at once ${nine.toFixed(1)} s`);
      return [
        {
          what: `look that finds 1 departure -> every cloud done (${STANDIN_CLOUDS} stand-in clouds)`,
          samples: [one],
          target: "<= 30 s",
          note: "simulation",
        },
        {
          what: `look that finds 9 departures at once -> every cloud done (${STANDIN_CLOUDS} stand-in clouds)`,
          samples: [nine],
          target: "<= 30 s",
          note: "simulation",
        },
      ];
    } finally {
      await sync.close();
    }
  } finally {
    await standin.stop();
  }
}

export async function benchOffboarding(): Promise<void> {
  const rows =
    ONLY === "syncrepl"
      ? await realClouds("syncrepl")
      : [...(await realClouds("listing")), ...(await realClouds("syncrepl")), ...(await standinClouds())];
  const cell = (samples: number[], p: number) =>
    samples.length > 1
      ? percentile(
          [...samples].sort((a, b) => a - b),
          p,
        ).toFixed(1)
      : "";
  appendBenchmark({
    title: `Offboarding: change -> every path refused (${PEOPLE} people, 3 real clouds${ONLY ? ", syncrepl only" : `; ${STANDIN_CLOUDS} stand-in clouds`})`,
    command: ONLY ? `BENCH_OFFBOARD_ONLY=${ONLY} npm run bench -- offboarding` : "npm run bench -- offboarding",
    markdown: markdownTable([
      ["path", "people", "p50 s", "p99 s", "max s", "target", "note"],
      ...rows.map((r) => [
        r.what,
        r.samples.length,
        cell(r.samples, 50),
        cell(r.samples, 99),
        Math.max(...r.samples).toFixed(1),
        r.target,
        r.note ?? "",
      ]),
      [
        "before offboarding: removed from the directory -> found by the next full sync (sync.intervalSeconds)",
        "",
        "",
        "",
        "900 + sync time",
        "",
        "bound by the configuration, not measured; application credentials and brokered tokens stayed valid until then",
      ],
    ]),
    notes:
      "Paths: a new facade login, the facade token, a proxied Nova request, the web session, the OAuth refresh token, " +
      "and straight at the real Keystones the brokered token and the application credential in cloud-2 and cloud-3. " +
      "p99 of 20 samples is the largest (nearest rank). The stand-in rows are a **simulation** (bench/peers/" +
      "keystone-standin.ts answers after 5-20 ms): per cloud and person a user lookup, the disable, the application " +
      "credential list and delete; 64 clouds at once, 8 requests in flight per cloud.",
  });
}
