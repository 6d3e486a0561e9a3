import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { loadPolicies } from "../../../src/policy/index.js";
import { createSync, type SyncParts } from "../../../src/sync/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { type Deployment, startWorker, type WorkerProcess, writeDeployment } from "../sync/deployment.js";
import { editConfig } from "./exit-helpers.js";
import { type FreezingProxy, startFreezingProxy } from "./freezing-proxy.js";

// A real `archway worker` whose connections to the real Redis go half-open (a proxy in between stops carrying
// bytes without closing anything, as a dropped NAT entry does): without a check of its own it would wait for TCP to
// notice, hours. The submitter reaches Redis directly, as another host would.
let dep: Deployment;
let proxy: FreezingProxy;
let runtime: Runtime;
let sync: SyncParts;
let worker: WorkerProcess | undefined;

beforeAll(async () => {
  dep = await writeDeployment({ people: 3 });
  proxy = await startFreezingProxy(loadEndpoints().redis.port);
  const workerConfig = join(dep.dir, "worker.yaml");
  copyFileSync(dep.configFile, workerConfig);
  editConfig(workerConfig, (c) => {
    (c.store as Record<string, unknown>).url = `redis://127.0.0.1:${proxy.port}`;
  });
  runtime = buildRuntime(dep.configFile, captureIO());
  const { config, policiesDir } = runtime.loaded;
  const { policies, problems } = loadPolicies(policiesDir, {
    clouds: config.clouds,
    sources: config.identity.sources.map((s) => s.id),
    roles: config.roles,
  });
  expect(problems).toEqual([]);
  sync = createSync({
    config,
    store: runtime.store,
    audit: runtime.audit,
    sources: runtime.sources,
    policies: () => policies,
    queue: "shared",
    queueWaitMs: 90_000,
  });
  worker = startWorker(workerConfig, {
    concurrency: 2,
    lockMs: 10_000,
    env: { ARCHWAY_WORKER_STALL_CHECK_MS: "2000" },
  });
  await worker.ready;
}, 180_000);

afterAll(async () => {
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
