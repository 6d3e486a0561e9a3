import { describe, expect, it } from "vitest";
import { type Cloud, CloudSchema } from "../../../../src/config/index.js";
import { type CloudClients, OpenStackError } from "../../../../src/openstack/index.js";
import { applyPlan, type Operation } from "../../../../src/sync/index.js";
import { finishPlan } from "../../../../src/sync/plan.js";
import { emptyQuotaSlice, quotaTag } from "../../../../src/sync/resources/quota/index.js";
import { cloud, DOMAIN, observedOf } from "./fixtures.js";

/** Clients that record each call as one line; `fail` makes a call (by its line's prefix) throw once. */
function fakeClients(target: Cloud, calls: string[], fail: Record<string, number> = {}): CloudClients {
  const record = async (line: string, answer: unknown = {}) => {
    calls.push(line);
    const status = Object.entries(fail).find(([prefix]) => line.startsWith(prefix));
    if (status) {
      delete fail[status[0]];
      throw new OpenStackError("keystone_error", line, 502, {
        cloudId: target.id,
        operation: line,
        upstreamStatus: status[1],
      });
    }
    return answer;
  };
  const service = (name: string) => ({
    set: (id: string, limits: Record<string, number>) => record(`${name}.set ${id} ${JSON.stringify(limits)}`),
    reset: (id: string) => record(`${name}.reset ${id}`),
  });
  const quotas = { compute: service("compute"), volume: service("volume"), network: service("network") };
  const limits = {
    createLimit: (b: { resourceName: string; resourceLimit: number; regionId?: string }) =>
      record(`limits.create ${b.resourceName}=${b.resourceLimit}${b.regionId ? `@${b.regionId}` : ""}`),
    updateLimit: (id: string, b: { resourceLimit: number }) => record(`limits.update ${id}=${b.resourceLimit}`),
    deleteLimit: (id: string) => record(`limits.delete ${id}`),
    listLimits: (f: { resourceName: string }) => record(`limits.list ${f.resourceName}`, [{ id: "l-found" }]),
  };
  return {
    cloud: target,
    keystone: { request: (spec: { method: string; path: string }) => record(`${spec.method} ${spec.path}`) },
    quotas: () => quotas,
    limits: () => limits,
    limiter: { max: 1 },
  } as unknown as CloudClients;
}

const deps = (clients: CloudClients) => ({
  clients,
  passwordSecret: "s",
  keyVersion: 1,
  ownership: { deploymentId: "t", adoptUnmarked: false },
  now: () => new Date(),
  audit: () => {},
});

const tagPath = (tag: string) => `/projects/p1/tags/${encodeURIComponent(tag)}`;
const base = { domain: DOMAIN, name: "web", projectId: "p1", policies: ["team"] };

describe("quota apply steps", () => {
  it("service APIs: mark first, reset then rewrite when a resource was dropped, old mark off last", async () => {
    const calls: string[] = [];
    const op: Operation = {
      kind: "setQuota",
      ...base,
      service: "compute",
      limits: { cores: 8 },
      drop: ["ram"],
      mark: quotaTag("compute", ["cores"]),
      unmark: [quotaTag("compute", ["cores", "ram"])],
    };
    const result = await applyPlan(finishPlan(cloud.id, [op], []), observedOf(), deps(fakeClients(cloud, calls)));
    expect(result.failed).toEqual([]);
    expect(calls).toEqual([
      `PUT ${tagPath("archway:quota:compute:cores")}`,
      "compute.reset p1",
      'compute.set p1 {"cores":8}',
      `DELETE ${tagPath("archway:quota:compute:cores.ram")}`,
    ]);
  });

  it("a mark the project already has (Keystone answers 400) counts as added once it is seen there", async () => {
    const calls: string[] = [];
    const tag = quotaTag("network", ["port"]);
    const op: Operation = { kind: "setQuota", ...base, service: "network", limits: { port: 9 }, mark: tag };
    const clients = fakeClients(cloud, calls, { PUT: 400 });
    const result = await applyPlan(finishPlan(cloud.id, [op], []), observedOf(), deps(clients));
    expect(result.failed).toEqual([]);
    expect(calls).toEqual([`PUT ${tagPath(tag)}`, `GET ${tagPath(tag)}`, 'network.set p1 {"port":9}']);
  });

  it("unified limits: updates the project's own limit, creates a missing one in its registered region, adopts a 409", async () => {
    const unified = CloudSchema.parse({ ...cloud, quotaBackend: "unified-limits" });
    const quota = emptyQuotaSlice();
    quota.serviceIds.compute = "svc-compute";
    quota.registered.compute = {
      cores: { region: null, value: 20 },
      ram: { region: "cloud-1", value: 51_200 },
      instances: { region: null, value: 10 },
    };
    quota.projects.set(
      { domain: DOMAIN, name: "web" },
      { compute: { status: "ok", limits: {}, limitIds: { cores: "l-cores", key_pairs: "l-kp" } } },
    );
    const op: Operation = {
      kind: "setQuota",
      ...base,
      service: "compute",
      limits: { cores: 4, ram: 1024, instances: 2 },
      drop: ["key_pairs"],
    };
    const calls: string[] = [];
    const clients = fakeClients(unified, calls, { "limits.create servers": 409 });
    const result = await applyPlan(finishPlan(unified.id, [op], []), observedOf({ quota }), deps(clients));
    expect(result.failed).toEqual([]);
    expect(calls).toEqual([
      "limits.delete l-kp",
      "limits.update l-cores=4",
      "limits.create class:MEMORY_MB=1024@cloud-1",
      "limits.create servers=2",
      "limits.list servers",
      "limits.update l-found=2",
    ]);
  });

  it("reset: the service's set back to the defaults (or the marked Keystone limits deleted), then the marks off", async () => {
    const tag = quotaTag("volume", ["volumes"]);
    const op: Operation = {
      kind: "resetQuota",
      ...base,
      service: "volume",
      resources: ["volumes"],
      unmark: [tag],
      policies: [],
    };
    const calls: string[] = [];
    await applyPlan(finishPlan(cloud.id, [op], []), observedOf(), deps(fakeClients(cloud, calls)));
    expect(calls).toEqual(["volume.reset p1", `DELETE ${tagPath(tag)}`]);

    const unified = CloudSchema.parse({ ...cloud, quotaBackend: "unified-limits" });
    const quota = emptyQuotaSlice();
    quota.projects.set(
      { domain: DOMAIN, name: "web" },
      { volume: { status: "ok", limits: {}, limitIds: { volumes: "l-v" } } },
    );
    const keystoneCalls: string[] = [];
    await applyPlan(finishPlan(unified.id, [op], []), observedOf({ quota }), deps(fakeClients(unified, keystoneCalls)));
    expect(keystoneCalls).toEqual(["limits.delete l-v", `DELETE ${tagPath(tag)}`]);
  });
});
