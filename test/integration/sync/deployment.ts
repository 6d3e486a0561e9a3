import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { stringify } from "yaml";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { hashPassword } from "../../../src/identity/index.js";
import { createCloudClients } from "../../../src/openstack/index.js";
import { loadPolicies } from "../../../src/policy/index.js";
import { createSync, type SyncParts } from "../../../src/sync/index.js";
import { loadEndpoints, repoRoot } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { testClouds, uniqueName } from "../openstack/clouds.js";

/** A throwaway deployment on disk: its own Keystone domain in every cloud and its own Redis key prefix. */
export interface Deployment {
  dir: string;
  domain: string;
  configFile: string;
  /** Every Redis key of this deployment (store and BullMQ queue) starts with it. */
  keyPrefix: string;
  usernames: string[];
  /** Deletes the domain in every cloud, this deployment's Redis keys and the temp folder. */
  remove(): Promise<void>;
}

/**
 * Writes a config file, a policy (everyone in `team` gets `member` on project `shared` in every cloud) and the
 * shadow key into a temp folder. The domain and the key prefix are unique, so concurrent test files and other
 * users of the shared Keystones and Redis never see this deployment's objects or jobs.
 */
export async function writeDeployment(opts: {
  people: number;
  maxDeletes?: number;
  /** `sync.intervalSeconds` (the periodic full run a scheduling worker starts). */
  intervalSeconds?: number;
}): Promise<Deployment> {
  const endpoints = loadEndpoints();
  const name = uniqueName("archway-workers");
  const keyPrefix = `${name}:`;
  const dir = join(tmpdir(), name);
  mkdirSync(join(dir, "policies"), { recursive: true });
  writeFileSync(join(dir, "shadow-key"), randomBytes(32).toString("base64url"));
  // Nobody logs in here: a cheap hash keeps the setup fast.
  const passwordHash = await hashPassword("not-used-here", { N: 1024 });
  const users = Array.from({ length: opts.people }, (_, i) => ({
    username: `w${String(i).padStart(3, "0")}`,
    passwordHash,
    email: `w${i}@example.org`,
    groups: ["team"],
  }));
  const config = {
    // The workers and `sync` refuse public secrets: the test Keystones' admin password is the demo one.
    demo: true,
    // Its own deployment: other test files' projects are not this one's orphans.
    deploymentId: name,
    store: { type: "redis", url: endpoints.redis.url, keyPrefix },
    secrets: { shadowPasswordKey: "${file:shadow-key}" },
    identity: { sources: [{ id: "static", type: "static", users }] },
    clouds: endpoints.keystones.map((ks) => ({
      id: ks.id,
      authUrl: ks.authUrl,
      region: ks.region,
      domain: name,
      admin: { username: ks.adminUsername, password: ks.adminPassword, projectName: ks.adminProject },
    })),
    policiesDir: "policies",
    log: { level: "info" },
    sync: {
      maxDeletesPerRun: { perCloud: opts.maxDeletes ?? 500, total: 5000 },
      concurrency: 3,
      ...(opts.intervalSeconds ? { intervalSeconds: opts.intervalSeconds, incrementalSeconds: 0 } : {}),
    },
  };
  writeFileSync(join(dir, "archway.yaml"), stringify(config));
  writeFileSync(
    join(dir, "policies", "team.yaml"),
    stringify({
      apiVersion: "archway.dev/v1",
      kind: "AccessPolicy",
      metadata: { name: "team-shared" },
      spec: {
        subjects: { groups: { anyOf: ["team"] } },
        clouds: { names: ["*"] },
        grants: [{ project: "shared", roles: ["member"], create: true, description: "team" }],
      },
    }),
  );
  return {
    dir,
    domain: name,
    configFile: join(dir, "archway.yaml"),
    keyPrefix,
    usernames: users.map((u) => u.username),
    async remove() {
      for (const cloud of testClouds({ domain: name, endpoints })) {
        const c = createCloudClients(cloud);
        try {
          const [d] = await c.keystone.listDomains({ name });
          if (d) await c.keystone.deleteDomain(d.id);
        } catch {
          // A stopped cloud keeps the domain; its name is unique, so nothing else trips over it.
        } finally {
          await c.close();
        }
      }
      await deleteRedisPrefix(endpoints.redis.url, keyPrefix);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Deletes the keys under one prefix only (SCAN, never FLUSHDB: the Redis is shared). */
async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
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

/**
 * The deployment's sync parts in this test process, as `archway sync apply --queue` builds them: jobs go to the
 * shared queue and wait for the workers. A lost job fails the test after `queueWaitMs` instead of BullMQ's
 * default quarter of an hour.
 */
export function submitter(dep: Deployment, opts: { queueWaitMs: number }): { runtime: Runtime; sync: SyncParts } {
  const runtime = buildRuntime(dep.configFile, captureIO());
  const { config, policiesDir } = runtime.loaded;
  const { policies, problems } = loadPolicies(policiesDir, {
    clouds: config.clouds,
    sources: config.identity.sources.map((s) => s.id),
    roles: config.roles,
  });
  if (problems.length > 0) throw new Error(`the deployment's policies do not load: ${JSON.stringify(problems)}`);
  const sync = createSync({
    config,
    store: runtime.store,
    audit: runtime.audit,
    sources: runtime.sources,
    policies: () => policies,
    queue: "shared",
    queueWaitMs: opts.queueWaitMs,
  });
  return { runtime, sync };
}

/** An `archway worker` child process, controlled by its PID only. */
export interface WorkerProcess {
  pid: number;
  /** Resolves once the worker printed that it is ready; rejects if it exits first or does not get there in time. */
  ready: Promise<void>;
  output(): string;
  /** Job ids this worker reported as done (one log line per finished job). */
  jobs(): string[];
  running(): boolean;
  /** SIGKILL, no warning: the crash the tests simulate. Resolves once the process is gone. */
  crash(): Promise<void>;
  /** SIGTERM (graceful: finishes its jobs), then SIGKILL if it is still there after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGHUP: the worker reloads its policy files. */
  hangup(): void;
}

/** Every worker started by this test process that may still run; the exit hook kills them. */
const started = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the test process ends without afterAll (a crash, a timeout): no worker outlives it.
  process.once("exit", () => {
    for (const child of started)
      if (child.pid && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

/**
 * Starts `archway worker` as a real process (node + tsx). On Linux it runs under `setpriv --pdeathsig SIGKILL`
 * (which execs, so the PID is the worker's): even if this test process is killed outright, the kernel kills the
 * worker with it.
 */
export function startWorker(
  configFile: string,
  opts: {
    concurrency: number;
    lockMs: number;
    readyTimeoutMs?: number;
    schedule?: boolean;
    /** More environment for the worker (test knobs such as ARCHWAY_WORKER_STALL_CHECK_MS). */
    env?: Record<string, string>;
  },
): WorkerProcess {
  installExitHook();
  const node = [
    process.execPath,
    "--import",
    "tsx",
    "src/main.ts",
    "worker",
    "--config",
    configFile,
    ...(opts.schedule ? [] : ["--no-schedule"]),
    "--concurrency",
    String(opts.concurrency),
  ];
  const pdeathsig = existsSync("/usr/bin/setpriv");
  const [command, ...args] = pdeathsig ? ["/usr/bin/setpriv", "--pdeathsig", "SIGKILL", "--", ...node] : node;
  const child = spawn(command!, args, {
    cwd: repoRoot,
    env: { ...process.env, ARCHWAY_WORKER_LOCK_MS: String(opts.lockMs), ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  void exited.then(() => started.delete(child));
  let output = "";
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const running = () => child.exitCode === null && child.signalCode === null;

  const ready = new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`worker ${child.pid} not ready after ${opts.readyTimeoutMs ?? 90_000} ms:\n${output}`));
    }, opts.readyTimeoutMs ?? 90_000);
    const poll = setInterval(() => {
      if (output.includes("archway worker: ready")) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve();
      }
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(deadline);
      reject(new Error(`worker ${child.pid} exited (${child.exitCode ?? child.signalCode}) before ready:\n${output}`));
    });
  });
  // A test that never awaits `ready` must not see an unhandled rejection when it stops the worker.
  ready.catch(() => {});

  const signal = async (sig: NodeJS.Signals, waitMs: number): Promise<boolean> => {
    if (!running()) return true;
    child.kill(sig);
    return Promise.race([exited.then(() => true), sleep(waitMs).then(() => !running())]);
  };
  return {
    pid: child.pid ?? -1,
    ready,
    output: () => output,
    jobs: () => [...output.matchAll(/"job":"([^"]+)"/g)].map((m) => m[1]!),
    running,
    async crash() {
      if (!(await signal("SIGKILL", 10_000))) throw new Error(`worker ${child.pid} survived SIGKILL`);
    },
    hangup() {
      if (running()) child.kill("SIGHUP");
    },
    async stop(graceMs = 15_000) {
      if (await signal("SIGTERM", graceMs)) return;
      if (!(await signal("SIGKILL", 10_000))) throw new Error(`worker ${child.pid} survived SIGKILL`);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
