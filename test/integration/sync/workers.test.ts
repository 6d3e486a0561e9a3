import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { Runtime } from "../../../src/cli/runtime.js";
import { createCloudClients } from "../../../src/openstack/index.js";
import type { SyncParts } from "../../../src/sync/index.js";
import { testClouds } from "../openstack/clouds.js";
import { type Deployment, startWorker, submitter, type WorkerProcess, writeDeployment } from "./deployment.js";

// Real `archway worker` processes on the test environment's Redis, against the 3 real Keystones. The deployment
// has its own Keystone domain and Redis key prefix (so its own BullMQ queue); every worker is killed by its PID.
const PEOPLE = 40;
/** Writes of a first run per cloud: domain, project, one user and one grant per person. */
const FIRST_RUN_OPS = 1 + 1 + 2 * PEOPLE;

let dep: Deployment;
let runtime: Runtime;
let sync: SyncParts;
const workers: WorkerProcess[] = [];

function worker(opts: { concurrency: number; lockMs: number }): WorkerProcess {
  const w = startWorker(dep.configFile, opts);
  workers.push(w);
  return w;
}

beforeAll(async () => {
  dep = await writeDeployment({ people: PEOPLE });
  ({ runtime, sync } = submitter(dep, { queueWaitMs: 150_000 }));
});

afterAll(async () => {
  // Workers first (by PID, escalating to SIGKILL), so none keeps writing while the domain is deleted.
  await Promise.allSettled(workers.map((w) => w.stop(10_000)));
  await sync?.close().catch(() => {});
  await runtime?.close().catch(() => {});
  await dep?.remove();
}, 120_000);

async function appliedEvents(): Promise<Record<string, unknown>[]> {
  return (await runtime.store.read("audit", { limit: 100_000 }))
    .map((e) => e.data)
    .filter((d) => d.type === "sync.applied");
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the workers' logs show `count` finished jobs of the run. */
function logged(ws: WorkerProcess[], runId: string, count: number): Promise<void> {
  const done = () => ws.flatMap((w) => w.jobs()).filter((id) => id.startsWith(`${runId}__`)).length;
  return waitFor(`${count} '${runId}' jobs in the worker logs`, async () => done() >= count, 15_000);
}

/** Keystone ids of this deployment's domain and of role `member`, per cloud. */
async function cloudState(cloudId: string) {
  const ks = sync.clients(sync.engine.cloud(cloudId)).keystone;
  const [domain] = await ks.listDomains({ name: dep.domain });
  if (!domain) throw new Error(`no domain ${dep.domain} in ${cloudId}`);
  const users = await ks.listUsers({ domainId: domain.id });
  const [project] = await ks.listProjects({ domainId: domain.id, name: "shared" });
  const assignments = project ? await ks.listRoleAssignments({ projectId: project.id }) : [];
  return { ks, users, project, assignments };
}

describe("archway worker processes on one Redis", () => {
  it("converges with no duplicate and no lost change after a worker is SIGKILLed in the middle of apply", async () => {
    const first = worker({ concurrency: 3, lockMs: 2_000 });
    await first.ready;
    const run = sync.service.full({ runId: "kill-run" });
    run.catch(() => {}); // awaited below; a failure must not surface as unhandled while we wait

    // Half-way through the writes of the three clouds, kill it without warning.
    await waitFor("20 applied changes", async () => (await appliedEvents()).length >= 20, 120_000);
    await first.crash();
    const atKill = (await appliedEvents()).length;
    expect(atKill).toBeLessThan(3 * FIRST_RUN_OPS);
    expect(first.jobs()).toEqual([]);

    // A fresh worker takes the stalled jobs over once the dead one's locks expire, and reruns them.
    const second = worker({ concurrency: 3, lockMs: 2_000 });
    await second.ready;
    const { results } = await run;
    expect(results.map((r) => [r.cloudId, r.outcome])).toEqual([
      ["cloud-1", "converged"],
      ["cloud-2", "converged"],
      ["cloud-3", "converged"],
    ]);
    // Results travel through Redis, the worker's log line through a pipe: the line may come a moment later.
    await logged([second], "kill-run", 3);
    expect(second.jobs().sort()).toEqual(["kill-run__cloud-1", "kill-run__cloud-2", "kill-run__cloud-3"]);

    const events = await appliedEvents();
    expect(events.length).toBeGreaterThan(atKill);
    // No duplicate: each person was created once per cloud, whichever worker did it.
    const creates = events.filter((e) => e.operation === "createUser").map((e) => `${e.cloud}/${e.actor}`);
    expect(new Set(creates).size).toBe(creates.length);
    // No lost change: every person exists once and holds the role in every cloud, and nothing is left to do.
    for (const cloudId of ["cloud-1", "cloud-2", "cloud-3"]) {
      const { users, project, assignments } = await cloudState(cloudId);
      expect(users.map((u) => u.name).sort()).toEqual(dep.usernames);
      expect(project).toBeDefined();
      const granted = assignments.map((a) => a.user?.id).filter((id): id is string => id !== undefined);
      expect(new Set(granted).size).toBe(PEOPLE);
      expect(granted.length).toBe(PEOPLE);
    }
    for (const plan of await sync.service.plan()) {
      expect("operations" in plan ? plan.operations : plan).toEqual([]);
    }
    await second.stop();
  });

  it("splits the jobs of a run between two workers without doing any twice, even when submitted twice", async () => {
    // Drift made by hand: 5 people lose their role in every cloud, so every job has real writes to do.
    const revoked = new Map<string, string[]>();
    for (const cloudId of ["cloud-1", "cloud-2", "cloud-3"]) {
      const { ks, users, project, assignments } = await cloudState(cloudId);
      const victims = users.slice(0, 5);
      for (const u of victims) {
        const a = assignments.find((x) => x.user?.id === u.id);
        if (!a || !project) throw new Error(`no assignment of ${u.name} in ${cloudId}`);
        await ks.revokeProjectRole({ userId: u.id }, project.id, a.role.id);
      }
      revoked.set(cloudId, victims.map((u) => u.name).sort());
    }

    const a = worker({ concurrency: 1, lockMs: 10_000 });
    const b = worker({ concurrency: 1, lockMs: 10_000 });
    await Promise.all([a.ready, b.ready]);
    const [one, two] = await Promise.all([
      sync.service.full({ runId: "split-run", deepKeys: true }),
      sync.service.full({ runId: "split-run", deepKeys: true }),
    ]);
    expect(one.results.map((r) => r.outcome)).toEqual(["converged", "converged", "converged"]);
    expect(two.results.map((r) => r.jobId)).toEqual(one.results.map((r) => r.jobId));

    // Each job ran exactly once, and both workers took part.
    await logged([a, b], "split-run", 3);
    const done = [...a.jobs(), ...b.jobs()].filter((id) => id.startsWith("split-run"));
    expect(done.sort()).toEqual(["split-run__cloud-1", "split-run__cloud-2", "split-run__cloud-3"]);
    expect(a.jobs().length).toBeGreaterThan(0);
    expect(b.jobs().length).toBeGreaterThan(0);

    // Each revoked role was granted back once, in its own cloud.
    const grants = (await appliedEvents()).filter((e) => e.runId === "split-run");
    expect(grants.every((e) => e.operation === "grant")).toBe(true);
    for (const [cloudId, names] of revoked) {
      const actors = grants.filter((e) => e.cloud === cloudId).map((e) => String(e.actor));
      expect(actors.sort()).toEqual(names.map((n) => `static:${n}`));
      const { assignments } = await cloudState(cloudId);
      expect(assignments.length).toBe(PEOPLE);
    }
  });

  it("reloads its policy files on SIGHUP: its next scheduled run grants what the new files say", async () => {
    // A deployment of its own whose workers schedule a full run every 2 s.
    const own = await writeDeployment({ people: 3, intervalSeconds: 2 });
    const scheduler = startWorker(own.configFile, { concurrency: 3, lockMs: 10_000, schedule: true });
    workers.push(scheduler);
    const clouds = testClouds({ domain: own.domain });
    const roles = async (role: string) => {
      const cloud = clouds[0]!;
      const c = createCloudClients(cloud);
      try {
        const [domain] = await c.keystone.listDomains({ name: own.domain });
        const [project] = domain ? await c.keystone.listProjects({ domainId: domain.id, name: "shared" }) : [];
        const [roleRef] = await c.keystone.listRoles({ name: role });
        if (!project || !roleRef) return 0;
        return (await c.keystone.listRoleAssignments({ projectId: project.id })).filter((a) => a.role.id === roleRef.id)
          .length;
      } finally {
        await c.close();
      }
    };
    const policy = (granted: string[]) =>
      stringify({
        apiVersion: "archway.dev/v1",
        kind: "AccessPolicy",
        metadata: { name: "team-shared" },
        spec: {
          subjects: { groups: { anyOf: ["team"] } },
          clouds: { names: ["*"] },
          grants: [{ project: "shared", roles: granted, create: true, description: "team" }],
        },
      });
    try {
      await scheduler.ready;
      await waitFor("the scheduled runs to grant member", async () => (await roles("member")) === 3, 90_000);
      expect(await roles("reader")).toBe(0);

      writeFileSync(join(own.dir, "policies", "team.yaml"), policy(["member", "reader"]));
      scheduler.hangup();
      await waitFor("the reload in the log", async () => scheduler.output().includes("policies reloaded"), 10_000);
      await waitFor("a scheduled run to grant reader", async () => (await roles("reader")) === 3, 90_000);

      // A broken file is refused and the policies in use stay.
      writeFileSync(
        join(own.dir, "policies", "team.yaml"),
        "apiVersion: archway.dev/v1\nkind: AccessPolicy\nspec: [\n",
      );
      scheduler.hangup();
      await waitFor("the refusal in the log", async () => scheduler.output().includes("policies not reloaded"), 10_000);
      expect(scheduler.running()).toBe(true);
      expect(await roles("reader")).toBe(3);
    } finally {
      await scheduler.stop(10_000);
      await own.remove();
    }
  }, 240_000);
});
