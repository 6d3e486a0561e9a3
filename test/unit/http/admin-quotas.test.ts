import { describe, expect, it } from "vitest";
import type { Cloud } from "../../../src/config/index.js";
import { QuotaQuerySchema, QuotaReports, quotaView } from "../../../src/http/web/admin-quotas-data.js";
import type { QuotaUsage } from "../../../src/openstack/index.js";
import type { CloudReport, ProjectReport } from "../../../src/quota/index.js";

const ok = (resources: QuotaUsage) => ({ status: "ok" as const, resources });
const project = (domain: string, name: string, cores: number, inUse = 0): ProjectReport => ({
  id: `${domain}-${name}`,
  domain,
  name,
  services: {
    compute: ok({ cores: { limit: cores, inUse } }),
    volume: ok({}),
    network: { status: "unavailable", error: "neutron: HTTP 503" },
  },
});
const up = (id: string, projects: ProjectReport[]): CloudReport => ({
  cloud: id,
  backend: "service",
  status: "ok",
  projects,
});
const cloud = (id: string) => ({ id, quotaBackend: "service" }) as Cloud;

describe("the quota page's view", () => {
  const clouds: CloudReport[] = [
    up("c1", [project("archway", "team-a", 8, 2), project("archway", "team-b", 4)]),
    up("c2", [project("archway", "team-a", 12, 5)]),
    { cloud: "c3", backend: "service", status: "unavailable", error: "connect ECONNREFUSED", projects: [] },
  ];

  it("groups a project across the clouds that hold it, one row per cloud and service, with its totals", () => {
    const view = quotaView(clouds, QuotaQuerySchema.parse({}));
    expect(view.page.map((p) => [p.name, p.clouds])).toEqual([
      ["team-a", ["c1", "c2"]],
      ["team-b", ["c1"]],
    ]);
    const a = view.page[0]!;
    expect(a.rows.compute.map((r) => r.cloud)).toEqual(["c1", "c2"]);
    expect(a.totals.compute.cores).toEqual({ limit: 20, inUse: 7 });
    expect(a.rows.network.every((r) => r.report.status === "unavailable")).toBe(true);
    expect(view.totals.compute.cores).toEqual({ limit: 24, inUse: 7 });
    expect(view.unavailable.map((c) => c.cloud)).toEqual(["c3"]);
  });

  it("filters by cloud as `archway quota report --cloud` does, and by part of a project name", () => {
    const one = quotaView(clouds, QuotaQuerySchema.parse({ cloud: "c2" }));
    expect(one.report.clouds.map((c) => c.cloud)).toEqual(["c2"]);
    expect(one.totals.compute.cores).toEqual({ limit: 12, inUse: 5 });
    expect(one.unavailable).toEqual([]);
    const named = quotaView(clouds, QuotaQuerySchema.parse({ project: "B" }));
    expect(named.page.map((p) => p.name)).toEqual(["team-b"]);
    expect(named.totals.compute.cores).toEqual({ limit: 4, inUse: 0 });
  });

  it("pages the projects and keeps the page number in range", () => {
    const many = [
      up(
        "c1",
        Array.from({ length: 30 }, (_, i) => project("d", `p${String(i).padStart(2, "0")}`, i)),
      ),
    ];
    const view = quotaView(many, QuotaQuerySchema.parse({ page: "9" }), 25);
    expect([view.pageNumber, view.pages, view.page.length, view.matching]).toEqual([2, 2, 5, 30]);
  });
});

describe("the quota report kept for the page", () => {
  function reports(now: { t: number }, opts: { slow?: string } = {}) {
    const reads: string[] = [];
    const r = new QuotaReports({
      clouds: () => [cloud("c1"), cloud("c2"), cloud("slow")],
      readCloud: async (c) => {
        reads.push(c.id);
        if (c.id === opts.slow) await new Promise((resolve) => setTimeout(resolve, 5_000));
        if (c.id === "c2") throw new Error("connect ECONNREFUSED");
        return up(c.id, []);
      },
      cloudDeadlineMs: 50,
      now: () => now.t,
    });
    return { r, reads };
  }

  it("reads every cloud once a minute at most, and concurrent views share one read", async () => {
    const now = { t: 1_000_000 };
    const { r, reads } = reports(now);
    const [a, b] = await Promise.all([r.read(), r.read()]);
    expect(a).toBe(b);
    expect(reads).toHaveLength(3);
    now.t += 59_000;
    await r.read();
    expect(reads).toHaveLength(3);
    // "Read again" is honoured after 10 s, not before.
    now.t -= 55_000;
    await r.read({ refresh: true });
    expect(reads).toHaveLength(3);
    now.t += 7_000;
    await r.read({ refresh: true });
    expect(reads).toHaveLength(6);
  });

  it("a cloud that throws or does not answer in time is reported unavailable, the others as read", async () => {
    const { r } = reports({ t: 0 }, { slow: "slow" });
    const { clouds } = await r.read();
    expect(clouds.map((c) => [c.cloud, c.status, c.error])).toEqual([
      ["c1", "ok", undefined],
      ["c2", "unavailable", "connect ECONNREFUSED"],
      ["slow", "unavailable", "did not answer in 0.05 s"],
    ]);
  });
});
