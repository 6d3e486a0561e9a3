import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../../src/config/index.js";
import type { CloudClients } from "../../../../src/openstack/index.js";
import type { DesiredProject, Quotas } from "../../../../src/policy/index.js";
import { isDestructive, planCloud, type SyncInput } from "../../../../src/sync/index.js";
import type { ProjectMap } from "../../../../src/sync/project-ref.js";
import type { ObserveContext, SliceSource } from "../../../../src/sync/resource.js";
import { type ObservedProject, projects } from "../../../../src/sync/resources/project/index.js";
import {
  emptyQuotaSlice,
  type ProjectQuotas,
  type QuotaSlice,
  quotaMarks,
  quotas as quotaResource,
  quotaTag,
} from "../../../../src/sync/resources/quota/index.js";
import { cloud, DOMAIN, desiredOf, kinds, OPTS, OWN, observedOf, plan, project } from "./fixtures.js";

const wanted = (name: string, quotas?: Quotas, extra: Partial<DesiredProject> = {}): DesiredProject => ({
  name,
  domain: DOMAIN,
  description: `project ${name}`,
  tags: [],
  create: true,
  policies: ["team"],
  ...(quotas ? { quotas } : {}),
  ...extra,
});

/** An owned project `web` with the given tags on top of Archway's marks. */
function owned(extraTags: string[] = [], name = "web"): [ProjectMap<ObservedProject>, ObservedProject] {
  const [map, p] = project(DOMAIN, name, { description: `project ${name}` });
  p.tags = [...p.tags, ...extraTags].sort();
  return [map, p];
}

/** A quota slice where `web` reads `read`. */
function sliceOf(read: ProjectQuotas, over: Partial<QuotaSlice> = {}, name = "web"): QuotaSlice {
  const s = { ...emptyQuotaSlice(), ...over };
  s.projects.set({ domain: DOMAIN, name }, read);
  return s;
}

const ok = (limits: Record<string, number>, limitIds?: Record<string, string>) => ({
  status: "ok" as const,
  limits,
  ...(limitIds ? { limitIds } : {}),
});

describe("quota planner", () => {
  it("sets a created project's quotas after it exists (links phase), every named limit, marked", () => {
    const q: Quotas = { compute: { cores: 8, ram: 16_384 }, network: { port: 50 } };
    const p = plan(desiredOf({ projects: [wanted("web", q)] }), observedOf());
    expect(kinds(p)).toEqual(["createProject", "setQuota", "setQuota"]);
    expect(p.operations.slice(1)).toEqual([
      {
        kind: "setQuota",
        domain: DOMAIN,
        name: "web",
        service: "compute",
        limits: { cores: 8, ram: 16_384 },
        mark: "archway:quota:compute:cores.ram",
        policies: ["team"],
      },
      expect.objectContaining({ service: "network", limits: { port: 50 }, mark: "archway:quota:network:port" }),
    ]);
    expect(p.counts.update).toBe(2);
  });

  it("no-op when the owned project has the limits and the mark", () => {
    const [map] = owned([quotaTag("compute", ["cores", "ram"])]);
    const observed = observedOf({
      project: map,
      quota: sliceOf({ compute: ok({ cores: 8, ram: 16_384, instances: 10 }) }),
    });
    const p = plan(desiredOf({ projects: [wanted("web", { compute: { cores: 8, ram: 16_384 } })] }), observed);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([]);
  });

  it("writes only the named limits that differ", () => {
    const [map, seen] = owned([quotaTag("compute", ["cores", "ram"])]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 4, ram: 16_384 }) }) });
    const p = plan(desiredOf({ projects: [wanted("web", { compute: { cores: 8, ram: 16_384 } })] }), observed);
    expect(p.operations).toEqual([
      {
        kind: "setQuota",
        domain: DOMAIN,
        name: "web",
        projectId: seen.id,
        service: "compute",
        limits: { cores: 8 },
        policies: ["team"],
      },
    ]);
  });

  it("marks limits that already hold their values (once), without writing them", () => {
    const [map] = owned();
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 8 }) }) });
    const p = plan(desiredOf({ projects: [wanted("web", { compute: { cores: 8 } })] }), observed);
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "setQuota", limits: {}, mark: quotaTag("compute", ["cores"]) }),
    ]);
    expect(p.operations.map((o) => o.kind === "setQuota" && o.policies)).toEqual([["team"]]);
  });

  it("resets a service no grant names any more on a project Archway set it on, and removes the mark", () => {
    const tag = quotaTag("volume", ["gigabytes", "volumes"]);
    const [map, seen] = owned([tag]);
    const observed = observedOf({ project: map, quota: sliceOf({ volume: ok({ volumes: 7, gigabytes: 70 }) }) });
    const p = plan(desiredOf({ projects: [wanted("web")] }), observed);
    expect(p.operations).toEqual([
      {
        kind: "resetQuota",
        domain: DOMAIN,
        name: "web",
        projectId: seen.id,
        service: "volume",
        resources: ["gigabytes", "volumes"],
        unmark: [tag],
        policies: ["team"],
      },
    ]);
    // Not destructive: nothing is deleted, only the limit for new resources goes back to the default.
    expect(p.destructive).toBe(0);
    expect(isDestructive(p.operations[0]!)).toBe(false);
  });

  it("resets the quotas of an owned project no policy names any more", () => {
    const [map] = owned([quotaTag("compute", ["cores"])]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 8 }) }) });
    const p = plan(desiredOf(), observed);
    expect(p.operations).toEqual([expect.objectContaining({ kind: "resetQuota", service: "compute", policies: [] })]);
  });

  it("a resource dropped from a grant: the service API resets the set, and every named limit is written again", () => {
    const [map] = owned([quotaTag("compute", ["cores", "ram"])]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 8, ram: 16_384 }) }) });
    const p = plan(desiredOf({ projects: [wanted("web", { compute: { cores: 8 } })] }), observed);
    expect(p.operations).toEqual([
      expect.objectContaining({
        kind: "setQuota",
        limits: { cores: 8 },
        drop: ["ram"],
        mark: quotaTag("compute", ["cores"]),
        unmark: [quotaTag("compute", ["cores", "ram"])],
      }),
    ]);
  });

  it("never touches a project Archway does not own, with or without marks; says why", () => {
    const [map] = project(DOMAIN, "web", { owned: false, tags: [quotaTag("compute", ["cores"])], whose: "x" });
    const observed = observedOf({ project: map });
    const p = plan(desiredOf({ projects: [wanted("web", { compute: { cores: 8 } })] }), observed);
    expect(p.operations).toEqual([]);
    expect(p.problems).toContain(`project ${DOMAIN}/web: quotas not set (the project is not Archway's)`);
    expect(plan(desiredOf(), observed).operations).toEqual([]);
  });

  it("a service missing from the cloud's catalog is a plan problem for that cloud, other services go on", () => {
    const [map] = owned();
    const observed = observedOf({
      project: map,
      quota: sliceOf({ compute: ok({ cores: 4 }) }, { unavailable: { volume: "no volumev3 endpoint in the catalog" } }),
    });
    const q: Quotas = { compute: { cores: 8 }, volume: { volumes: 3 } };
    const p = plan(desiredOf({ projects: [wanted("web", q), wanted("new", q)] }), observed);
    expect(p.operations.filter((o) => o.kind === "setQuota").map((o) => [o.name, o.service])).toEqual([
      ["web", "compute"],
      ["new", "compute"],
    ]);
    expect(p.problems).toEqual([
      "volume quotas of 2 project(s) not set in cloud cloud-1: no volumev3 endpoint in the catalog",
    ]);
  });

  it("a service whose limits could not be read is left as it is", () => {
    const [map] = owned([quotaTag("compute", ["cores"])]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: { status: "unavailable", error: "503" } }) });
    const p = plan(desiredOf(), observed);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([expect.stringContaining("compute quotas of")]);
  });

  it("just-in-time runs plan no quota changes", () => {
    const [map] = owned([quotaTag("compute", ["cores"])]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 4 }) }) });
    const desired = desiredOf({
      projects: [wanted("web", { compute: { cores: 8 } }), wanted("new", { compute: { cores: 1 } })],
    });
    const p = plan(desired, observed, { people: new Set(["ldap:alice"]) });
    expect(p.operations.filter((o) => o.kind === "setQuota" || o.kind === "resetQuota")).toEqual([]);
  });

  it("the project planner keeps the quota marks when it rewrites an owned project's tags", () => {
    const tag = quotaTag("compute", ["cores"]);
    const [map] = owned([tag]);
    const observed = observedOf({ project: map, quota: sliceOf({ compute: ok({ cores: 8 }) }) });
    const p = plan(
      desiredOf({ projects: [wanted("web", { compute: { cores: 8 } }, { tags: ["env:prod"] })] }),
      observed,
    );
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "updateProject", tags: expect.arrayContaining([tag, "env:prod"]) }),
    ]);
  });

  describe("on a cloud with quotaBackend: unified-limits", () => {
    const unified = CloudSchema.parse({ ...cloud, quotaBackend: "unified-limits" });
    const planUnified = (desired: ReturnType<typeof desiredOf>, observed: ReturnType<typeof observedOf>) => {
      const input: SyncInput = { cloud: unified, desired, ownership: OWN };
      return planCloud(input, observed, OPTS);
    };
    const registered = {
      compute: { cores: { region: null, value: 20 }, ram: { region: null, value: 51_200 } },
    };

    it("compares with the project's limits over the registered defaults, writes only what differs", () => {
      const [map] = owned([quotaTag("compute", ["cores", "ram"])]);
      const observed = observedOf({
        project: map,
        quota: sliceOf({ compute: ok({ cores: 8, ram: 51_200 }, { cores: "l-cores" }) }, { registered }),
      });
      const p = planUnified(
        desiredOf({ projects: [wanted("web", { compute: { cores: 10, ram: 51_200 } })] }),
        observed,
      );
      expect(p.operations).toEqual([expect.objectContaining({ kind: "setQuota", limits: { cores: 10 } })]);
    });

    it("a dropped resource loses only its own limit (no whole-set reset)", () => {
      const [map] = owned([quotaTag("compute", ["cores", "ram"])]);
      const observed = observedOf({
        project: map,
        quota: sliceOf({ compute: ok({ cores: 10, ram: 1024 }, { cores: "l1", ram: "l2" }) }, { registered }),
      });
      const p = planUnified(desiredOf({ projects: [wanted("web", { compute: { cores: 10 } })] }), observed);
      expect(p.operations).toEqual([expect.objectContaining({ kind: "setQuota", limits: {}, drop: ["ram"] })]);
    });

    it("a resource without a registered limit is a problem (Keystone would refuse it); the others are set", () => {
      const p = planUnified(
        desiredOf({ projects: [wanted("new", { compute: { cores: 4, instances: 3 } })] }),
        observedOf({ quota: { ...emptyQuotaSlice(), registered } }),
      );
      expect(p.operations).toEqual([
        expect.objectContaining({ kind: "createProject" }),
        expect.objectContaining({ kind: "setQuota", limits: { cores: 4 }, mark: quotaTag("compute", ["cores"]) }),
      ]);
      expect(p.problems).toEqual([expect.stringContaining("has no registered limit servers in Keystone")]);
    });

    it("network quotas still go to Neutron (no unified limits there): same plan as the service backend", () => {
      const p = planUnified(desiredOf({ projects: [wanted("new", { network: { port: 9 } })] }), observedOf());
      expect(p.operations).toEqual([
        expect.objectContaining({ kind: "createProject" }),
        expect.objectContaining({ kind: "setQuota", service: "network", limits: { port: 9 } }),
      ]);
    });
  });
});

describe("quota marks", () => {
  it("parse per service; two tags of one service (an interrupted run) mean the union; unknown names are ignored", () => {
    expect(
      quotaMarks([
        "archway:managed",
        quotaTag("compute", ["ram", "cores"]),
        "archway:quota:compute:instances.bogus",
        "archway:quota:nothing:cores",
      ]),
    ).toEqual({
      compute: {
        resources: new Set(["cores", "ram", "instances"]),
        tags: ["archway:quota:compute:cores.ram", "archway:quota:compute:instances.bogus"],
      },
    });
  });
});

describe("quota observe", () => {
  it("reads a project's services at once (one round trip, not one per service), and only those named", async () => {
    const [map] = owned();
    let inFlight = 0;
    let peak = 0;
    const read: string[] = [];
    const service = (name: string) => ({
      get: async (projectId: string) => {
        read.push(`${name} ${projectId}`);
        peak = Math.max(peak, ++inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { cores: 4, ram: 1024, volumes: 2, port: 10 };
      },
    });
    const clients = {
      cloud,
      limiter: { max: 8 },
      keystone: { endpoint: async () => "http://cloud" },
      quotas: () => ({ compute: service("compute"), volume: service("volume"), network: service("network") }),
    } as unknown as CloudClients;
    const ctx: ObserveContext = {
      clients,
      input: {
        cloud,
        desired: desiredOf({ projects: [wanted("web", { compute: { cores: 4 }, network: { port: 10 } })] }),
        ownership: OWN,
      },
      opts: {},
      reads: {} as ObserveContext["reads"],
      slice: async <S>(r: SliceSource<S>) => {
        if (r !== (projects as unknown as SliceSource<S>)) throw new Error(`unexpected slice ${r.name}`);
        return map as S;
      },
    };
    const slice = await quotaResource.observe(ctx);
    expect(read.sort()).toEqual(
      ["compute p-Default-web", "network p-Default-web"].map((s) => s.replace("Default", DOMAIN)),
    );
    expect(peak).toBe(2);
    expect(slice.projects.get({ domain: DOMAIN, name: "web" })).toEqual({
      compute: ok({ cores: 4, ram: 1024 }),
      network: ok({ port: 10 }),
    });
  });
});
