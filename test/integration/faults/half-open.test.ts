import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Runtime } from "../../../src/cli/runtime.js";
import type { SyncParts } from "../../../src/sync/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { type Deployment, startWorker, submitter, type WorkerProcess, writeDeployment } from "../sync/deployment.js";
import { type FaultArchway, login, startFaultArchway } from "./archway.js";
import { editConfig } from "./exit-helpers.js";
import { type FreezingProxy, startFreezingProxy } from "./freezing-proxy.js";
import { type OwnRedis, startOwnRedis } from "./own-redis.js";

// Connections to the real Redis that go half-open (a proxy in between stops carrying bytes without closing
// anything, as a dropped NAT entry does): without checks of their own, Archway's processes would wait for TCP to
// notice, hours. The submitter reaches Redis directly, as another host would.
let dep: Deployment;
let proxy: FreezingProxy;
let runtime: Runtime;
let sync: SyncParts;
let worker: WorkerProcess | undefined;
let gateway: FaultArchway | undefined;
let gatewayProxy: FreezingProxy | undefined;
/** The gateway's Redis, of the test's own: its keys (sealed with this run's random secrets) die with it. */
let gatewayRedis: OwnRedis | undefined;

beforeAll(async () => {
  dep = await writeDeployment({ people: 3 });
  proxy = await startFreezingProxy(loadEndpoints().redis.port);
  const workerConfig = join(dep.dir, "worker.yaml");
  copyFileSync(dep.configFile, workerConfig);
  editConfig(workerConfig, (c) => {
    (c.store as Record<string, unknown>).url = `redis://127.0.0.1:${proxy.port}`;
  });
  ({ runtime, sync } = submitter(dep, { queueWaitMs: 90_000 }));
  worker = startWorker(workerConfig, {
    concurrency: 2,
    lockMs: 10_000,
    env: { ARCHWAY_WORKER_STALL_CHECK_MS: "2000" },
  });
  await worker.ready;
}, 180_000);

afterAll(async () => {
  await gateway?.close().catch(() => {});
  await gatewayProxy?.close();
  await gatewayRedis?.close();
  await worker?.stop(10_000);
  await sync?.close().catch(() => {});
  await runtime?.close().catch(() => {});
  await proxy?.close();
  await dep?.remove();
}, 120_000);

describe("a sync worker whose Redis connections went half-open", () => {
  it("notices it took nothing while a job waited, starts over on fresh connections and runs the job", async () => {
    const before = await sync.service.full({ cloudId: "cloud-1", runId: "before-freeze" });
    expect(before.results.map((r) => r.outcome)).toEqual(["converged"]);
    const connectionsBefore = proxy.connections();

    proxy.freeze();
    const frozenAt = Date.now();
    const after = await sync.service.full({ cloudId: "cloud-2", runId: "after-freeze" });
    expect(after.results, worker?.output()).toMatchObject([{ cloudId: "cloud-2", outcome: "converged" }]);
    // Coarse: two checks 2 s apart, then a job run; without the check it waits for the submitter's 90 s limit.
    expect(Date.now() - frozenAt).toBeLessThan(45_000);
    expect(worker?.output()).toContain("sync worker stuck");
    expect(worker?.jobs()).toContain("after-freeze__cloud-2");
    expect(proxy.connections()).toBeGreaterThan(connectionsBefore);

    // It still stops soon on SIGTERM, the frozen connections of its first BullMQ worker included.
    const signalled = Date.now();
    await worker?.stop(20_000);
    expect(worker?.running()).toBe(false);
    expect(Date.now() - signalled).toBeLessThan(15_000);
  }, 120_000);
});

describe("the gateway whose store connection went half-open", () => {
  it("answers 503 within the bound, then reconnects by itself and signs people in again", async () => {
    gatewayRedis = await startOwnRedis();
    gatewayProxy = await startFreezingProxy(gatewayRedis.port);
    gateway = await startFaultArchway(`redis://127.0.0.1:${gatewayProxy.port}`);
    const first = await login(gateway);
    expect(first.status, first.code).toBe(201);
    const connectionsBefore = gatewayProxy.connections();

    gatewayProxy.freeze();
    const frozenAt = Date.now();
    const during = await login(gateway);
    expect(during.status).toBe(503);
    expect(during.ms).toBeLessThan(3_000);
    // Coarse: probes unanswered for 3 s, then a new connection; without it, down until TCP gives up (hours).
    let after = await login(gateway);
    while (after.status !== 201 && Date.now() - frozenAt < 30_000) {
      await new Promise((r) => setTimeout(r, 500));
      after = await login(gateway);
    }
    expect(after.status).toBe(201);
    expect(Date.now() - frozenAt).toBeLessThan(20_000);
    expect(gatewayProxy.connections()).toBeGreaterThan(connectionsBefore);
    expect(gateway.logs().some((l) => l.msg === "store silent: reconnecting")).toBe(true);
    const counted = await gateway.runtime.metrics.registry.getSingleMetricAsString(
      "archway_redis_silent_reconnects_total",
    );
    expect(counted).toMatch(/client="store"} [1-9]/);
  }, 60_000);
});
