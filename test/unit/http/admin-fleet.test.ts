import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { type FleetCloud, FleetQuerySchema, fleetState, fleetView } from "../../../src/http/web/admin-fleet.js";
import type { CloudSyncStatus } from "../../../src/sync/index.js";

const status = (over: Partial<CloudSyncStatus>): CloudSyncStatus => ({
  cloudId: "x",
  degraded: false,
  refused: false,
  drift: {},
  applied: 0,
  failed: 0,
  ...over,
});

function fleet(n: number): FleetCloud[] {
  return Array.from({ length: n }, (_, i) => {
    const cloud = CloudSchema.parse({
      id: `store-${String(i).padStart(4, "0")}`,
      authUrl: `http://127.0.0.1:${10000 + i}/v3`,
      labels: { kind: i % 10 === 0 ? "region" : "edge", country: i % 2 ? "de" : "fr" },
      admin: { username: "a", password: "b" },
    });
    const s = i % 7 === 0 ? null : status({ degraded: i % 13 === 0, lastSuccessAt: "2026-12-06T00:00:00Z" });
    return { cloud, status: s, state: fleetState(s) };
  });
}

describe("the fleet overview", () => {
  it("states a status by its worst news", () => {
    expect(fleetState(null)).toBe("never");
    expect(fleetState(status({ degraded: true, refused: true }))).toBe("degraded");
    expect(fleetState(status({ refused: true }))).toBe("refused");
    expect(fleetState(status({ failed: 2, lastSuccessAt: "2026-12-06T00:00:00Z" }))).toBe("failing");
    expect(fleetState(status({ lastSuccessAt: "2026-12-06T00:00:00Z", lastErrorAt: "2026-12-06T01:00:00Z" }))).toBe(
      "failing",
    );
    expect(fleetState(status({ lastSuccessAt: "2026-12-06T02:00:00Z", lastErrorAt: "2026-12-06T01:00:00Z" }))).toBe(
      "ok",
    );
  });

  it("counts the whole fleet, filters by name, label and state, and pages the table", () => {
    const all = fleet(1000);
    const view = fleetView(all, FleetQuerySchema.parse({}));
    expect(view.total).toBe(1000);
    expect(Object.values(view.counts).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(view.counts.never).toBe(143);
    expect(view.matching).toHaveLength(1000);
    expect(view.page).toHaveLength(50);
    expect(view.pages).toBe(20);

    const edgeDe = fleetView(all, FleetQuerySchema.parse({ label: "kind=edge", state: "ok", page: "3" }));
    expect(edgeDe.matching.every((c) => c.cloud.labels.kind === "edge" && c.state === "ok")).toBe(true);
    expect(edgeDe.pageNumber).toBe(3);
    expect(edgeDe.counts).toEqual(view.counts);
    expect(fleetView(all, FleetQuerySchema.parse({ name: "STORE-0042" })).matching.map((c) => c.cloud.id)).toEqual([
      "store-0042",
    ]);
    expect(fleetView(all, FleetQuerySchema.parse({ label: "country" })).matching).toHaveLength(1000);
  });

  it("takes any query string without failing: bad pages and states fall back", () => {
    const all = fleet(10);
    const q = FleetQuerySchema.parse({ page: "-4", state: "<script>" });
    expect(q).toMatchObject({ page: 1, state: undefined });
    expect(fleetView(all, FleetQuerySchema.parse({ page: "999" })).pageNumber).toBe(1);
  });
});
