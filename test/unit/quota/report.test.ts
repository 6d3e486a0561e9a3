import { describe, expect, it } from "vitest";
import type { Cloud } from "../../../src/config/index.js";
import type { CloudClients, QuotaUsage } from "../../../src/openstack/index.js";
import { OpenStackError } from "../../../src/openstack/index.js";
import {
  addUsage,
  type CloudReport,
  fromUnifiedNames,
  type ProjectReport,
  reportCloud,
  summarize,
} from "../../../src/quota/index.js";

const ok = (resources: QuotaUsage) => ({ status: "ok" as const, resources });
const project = (domain: string, name: string, compute: QuotaUsage, volume: QuotaUsage = {}): ProjectReport => ({
  id: `${domain}-${name}`,
  domain,
  name,
  services: { compute: ok(compute), volume: ok(volume), network: ok({}) },
});
const cloud = (id: string, projects: ProjectReport[]): CloudReport => ({
  cloud: id,
  backend: "service",
  status: "ok",
  projects,
});

describe("quota report totals", () => {
  it("sums limits and usage per resource over clouds, and per project across the clouds that hold it", () => {
    const report = summarize([
      cloud("c1", [
        project("archway", "team-a", { cores: { limit: 8, inUse: 2 } }, { volumes: { limit: 4, inUse: 1 } }),
      ]),
      cloud("c2", [
        project("archway", "team-a", { cores: { limit: 12, inUse: 5 } }),
        project("archway", "team-b", { cores: { limit: 10, inUse: 0 }, ram: { limit: 2048, inUse: 512 } }),
      ]),
    ]);
    expect(report.totals.compute).toEqual({ cores: { limit: 30, inUse: 7 }, ram: { limit: 2048, inUse: 512 } });
    expect(report.totals.volume).toEqual({ volumes: { limit: 4, inUse: 1 } });
    expect(report.projects.map((p) => [p.name, p.clouds, p.totals.compute.cores])).toEqual([
      ["team-a", ["c1", "c2"], { limit: 20, inUse: 7 }],
      ["team-b", ["c2"], { limit: 10, inUse: 0 }],
    ]);
  });

  it("an unlimited limit (-1) anywhere makes the sum unlimited; usage still adds up", () => {
    const into: QuotaUsage = { cores: { limit: 8, inUse: 2 } };
    addUsage(into, { cores: { limit: -1, inUse: 3 } });
    addUsage(into, { cores: { limit: 4, inUse: 1 } });
    expect(into).toEqual({ cores: { limit: -1, inUse: 6 } });
  });

  it("never joins domain and name: a '/' in either does not merge two projects", () => {
    const report = summarize([
      cloud("c1", [project("a/b", "c", { cores: { limit: 1, inUse: 0 } })]),
      cloud("c2", [project("a", "b/c", { cores: { limit: 2, inUse: 0 } })]),
    ]);
    expect(report.projects.map((p) => [p.domain, p.name, p.totals.compute.cores?.limit])).toEqual([
      ["a", "b/c", 2],
      ["a/b", "c", 1],
    ]);
  });

  it("leaves out unavailable clouds and unreadable services from the totals", () => {
    const down: CloudReport = {
      cloud: "c3",
      backend: "service",
      status: "unavailable",
      error: "no answer",
      projects: [],
    };
    const partial = project("archway", "team-a", { cores: { limit: 8, inUse: 2 } });
    partial.services.volume = { status: "unavailable", error: "no volumev3 endpoint" };
    const report = summarize([cloud("c1", [partial]), down]);
    expect(report.totals.compute.cores).toEqual({ limit: 8, inUse: 2 });
    expect(report.totals.volume).toEqual({});
    expect(report.clouds[1]).toMatchObject({ status: "unavailable", error: "no answer" });
  });

  it("renames unified limits to the config's names (Nova's placement classes)", () => {
    expect(fromUnifiedNames("compute", { "class:VCPU": 5, "class:MEMORY_MB": 2048, servers: 3, other: 1 })).toEqual({
      cores: 5,
      ram: 2048,
      instances: 3,
    });
    expect(fromUnifiedNames("network", { network: 3 })).toEqual({});
  });
});

describe("reportCloud", () => {
  const config = { id: "c1", quotaBackend: "service" } as Cloud;

  it("reports a cloud whose Keystone does not answer as unavailable instead of throwing", async () => {
    const down = new OpenStackError("cloud_unavailable", "cloud c1: keystone did not answer", 503, {
      cloudId: "c1",
      operation: "keystone.projects.list",
      upstreamStatus: 0,
    });
    const clients = {
      cloud: config,
      keystone: { listProjects: () => Promise.reject(down), listDomains: () => Promise.reject(down) },
    } as unknown as CloudClients;
    expect(await reportCloud(clients)).toEqual({
      cloud: "c1",
      backend: "service",
      status: "unavailable",
      error: "cloud c1: keystone did not answer",
      projects: [],
    });
  });

  it("keeps the config's resources of each service and marks a service it cannot read", async () => {
    const usage = (u: QuotaUsage) => ({ usage: async () => u });
    const clients = {
      cloud: config,
      keystone: {
        listProjects: async () => [{ id: "p1", name: "team-a", domain_id: "d1", enabled: true, tags: [] }],
        listDomains: async () => [{ id: "d1", name: "archway", enabled: true }],
      },
      quotas: () => ({
        compute: usage({ cores: { limit: 20, inUse: 1 }, fixed_ips: { limit: -1, inUse: 0 } }),
        volume: { usage: () => Promise.reject(new Error("the catalog has no volumev3 endpoint")) },
        network: usage({ network: { limit: 3, inUse: 1 }, rbac_policy: { limit: 10, inUse: 0 } }),
      }),
    } as unknown as CloudClients;
    const report = await reportCloud(clients);
    expect(report.projects).toEqual([
      {
        id: "p1",
        name: "team-a",
        domain: "archway",
        services: {
          compute: ok({ cores: { limit: 20, inUse: 1 } }),
          volume: { status: "unavailable", error: "the catalog has no volumev3 endpoint" },
          network: ok({ network: { limit: 3, inUse: 1 }, rbac_policy: { limit: 10, inUse: 0 } }),
        },
      },
    ]);
  });
});
