import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEndpoints } from "../../env/endpoints.js";
import { type Deployment, writeDeployment } from "../sync/deployment.js";
import { archway, editConfig, hangingServer, killAll } from "./exit-helpers.js";

// Issue 23, items 4 and 9, with real processes (`node dist/main.js`, built first) on the test environment's Redis
// and Keystones, plus a fourth cloud that accepts connections and never answers. Bounds are coarse (a process
// start alone takes seconds here): "exits by itself" is seconds, the bug was forever. Run `npm run build` first.
const PEOPLE = 3;
let dep: Deployment;
let hang: Awaited<ReturnType<typeof hangingServer>>;
let redis: Redis;

/** A copy of the deployment's config with the hanging cloud (its timeout) and a drain time. */
function config(name: string, opts: { hangTimeoutMs: number; drainSeconds: number }): string {
  const file = join(dep.dir, `${name}.yaml`);
  copyFileSync(dep.configFile, file);
  editConfig(file, (c) => {
    const clouds = c.clouds as Record<string, unknown>[];
    clouds.push({
      ...clouds[0],
      id: "hang",
      region: "hang",
      authUrl: `http://127.0.0.1:${hang.port}/v3`,
      timeoutMs: opts.hangTimeoutMs,
    });
    c.shutdown = { drainSeconds: opts.drainSeconds };
  });
  return file;
}

async function createdUsers(): Promise<string[]> {
  const rows = await redis.xrange(`${dep.keyPrefix}audit`, "-", "+");
  return rows
    .map(([, fields]) => JSON.parse(fields[1] ?? "{}") as Record<string, unknown>)
    .filter((d) => d.type === "sync.applied" && d.operation === "createUser")
    .map((d) => `${d.cloud}/${d.actor}`);
}

const activeJobs = () => redis.llen(`${dep.keyPrefix}bull:archway-sync:active`);

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  hang = await hangingServer();
  dep = await writeDeployment({ people: PEOPLE });
  redis = new Redis(loadEndpoints().redis.url, { maxRetriesPerRequest: 1 });
}, 120_000);

afterAll(async () => {
  killAll();
  redis?.disconnect();
  await hang?.close();
  await dep?.remove();
}, 120_000);

describe("commands exit by themselves, with the right code", () => {
  it("sync apply --queue exits 0 after its result; an idle worker exits 0 soon after the first SIGTERM", async () => {
    const file = config("queue", { hangTimeoutMs: 3_000, drainSeconds: 30 });
    const worker = archway(["worker", "--config", file, "--no-schedule", "--concurrency", "3"]);
    await worker.waitFor(/archway worker: ready/);
    const apply = archway(["sync", "apply", "--queue", "--cloud", "cloud-1", "--config", file]);
    await apply.waitFor(/1 of 1 clouds converged/);
    const printed = Date.now();
    const { code, at } = await apply.exit;
    expect(code).toBe(0);
    // It used to print its result and hang until killed (two Redis connections left open).
    expect(at - printed).toBeLessThan(5_000);

    const signalled = Date.now();
    worker.kill("SIGTERM");
    const stopped = await worker.exit;
    expect(stopped.code).toBe(0);
    // Idle: no drain to wait for (it used to ignore the first SIGTERM for good).
    expect(stopped.at - signalled).toBeLessThan(5_000);
  }, 180_000);

  it("a second sync apply while one runs is refused with exit 3 naming the holder; --wait runs after it; writes happen once", async () => {
    const file = config("lock", { hangTimeoutMs: 3_000, drainSeconds: 30 });
    // The first run holds every cloud's lock until its last cloud (the hanging one) gave up: many seconds.
    const first = archway(["sync", "apply", "--config", file]);
    await until(
      "the first run's lock",
      async () => (await redis.exists(`${dep.keyPrefix}sync:run:full:cloud-1:holder`)) === 1,
      90_000,
    );
    const holder = JSON.parse((await redis.get(`${dep.keyPrefix}sync:run:full:cloud-1:holder`)) ?? "{}") as {
      runId: string;
      pid: number;
    };
    expect(holder.pid).toBe(first.child.pid);

    const refused = archway(["sync", "apply", "--cloud", "cloud-1", "--config", file]);
    const r = await refused.exit;
    expect(r.code).toBe(3);
    expect(refused.output()).toContain(`another sync run holds the lock of 'full:cloud-1': run ${holder.runId}`);
    expect(refused.output()).toContain(`(pid ${holder.pid})`);
    expect(first.child.exitCode).toBeNull();

    const waiting = archway(["sync", "apply", "--cloud", "cloud-2", "--wait", "--config", file]);
    await waiting.waitFor(new RegExp(`waiting for run ${holder.runId}`), 60_000);
    // When the first run let go of cloud-2 (its process may still be closing connections a moment longer).
    let released = Number.POSITIVE_INFINITY;
    const release = until(
      "the first run to release cloud-2",
      async () => !((await redis.get(`${dep.keyPrefix}sync:run:full:cloud-2:holder`)) ?? "").includes(holder.runId),
      120_000,
    ).then(() => {
      released = Date.now();
    });
    const firstDone = await first.exit;
    // The hanging cloud failed: exit 1, the others converged.
    expect(firstDone.code).toBe(1);
    expect(first.output()).toMatch(/cloud-2: converged \(\d+ create/);
    const after = await waiting.exit;
    expect(after.code).toBe(0);
    await release;
    expect(after.at).toBeGreaterThanOrEqual(released);
    // It ran once the first had ended, and found everything done: nothing was written twice.
    expect(waiting.output()).toContain("cloud-2: converged (0 create, 0 update, 0 revoke, 0 disable, 0 delete)");
    const creates = await createdUsers();
    expect(new Set(creates).size).toBe(creates.length);
    expect(creates.filter((c) => c.startsWith("cloud-2/"))).toHaveLength(PEOPLE);
  }, 240_000);

  it("a worker with a running job drains it until shutdown.drainSeconds, then hands it back to the queue and exits 0", async () => {
    const file = config("drain", { hangTimeoutMs: 120_000, drainSeconds: 2 });
    const worker = archway(["worker", "--config", file, "--no-schedule", "--concurrency", "3"]);
    await worker.waitFor(/archway worker: ready/);
    // This submitter waits for its job for good; it is killed at the end.
    archway(["sync", "apply", "--queue", "--cloud", "hang", "--config", file]);
    await until("the hanging job to run", async () => (await activeJobs()) >= 1, 90_000);
    const signalled = Date.now();
    worker.kill("SIGTERM");
    const { code, at } = await worker.exit;
    expect(code).toBe(0);
    // 2 s of drain, then the hand-back: far below the job's own 120 s.
    expect(at - signalled).toBeLessThan(15_000);
    expect(worker.output()).toMatch(/"handedBack":1.*drain timed out/);
    // Back to waiting at once (not locked until the lock expires), for the next worker.
    expect(await activeJobs()).toBe(0);
    expect(await redis.llen(`${dep.keyPrefix}bull:archway-sync:wait`)).toBe(1);
  }, 180_000);

  it("a second SIGTERM during the drain hands the running job back and exits at once (143)", async () => {
    const file = config("force", { hangTimeoutMs: 120_000, drainSeconds: 60 });
    const worker = archway(["worker", "--config", file, "--no-schedule", "--concurrency", "3"]);
    await worker.waitFor(/archway worker: ready/);
    // It takes the job the previous worker handed back.
    await until("the handed-back job to run again", async () => (await activeJobs()) >= 1, 90_000);
    worker.kill("SIGTERM");
    await worker.waitFor(/shutting down: finishing running jobs/, 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(worker.child.exitCode).toBeNull();
    const signalled = Date.now();
    worker.kill("SIGTERM");
    const { code, at } = await worker.exit;
    expect(code).toBe(143);
    // At once: no drain left to wait for, a second to close what it can.
    expect(at - signalled).toBeLessThan(8_000);
    expect(worker.output()).toMatch(/"handedBack":1.*second signal/);
    expect(await activeJobs()).toBe(0);
  }, 180_000);
});
