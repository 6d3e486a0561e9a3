import { describe, expect, it } from "vitest";
import { filteredImageStatus, ImageQuerySchema, imageGridView } from "../../../src/http/web/admin-images-data.js";
import { halfWaySnapshot, row } from "../images/status-fixture.js";

describe("the images page's grid", () => {
  it("has an image version per column and a cloud per row, a cell where the version is wanted", () => {
    const view = imageGridView(halfWaySnapshot(), ImageQuerySchema.parse({}));
    expect(view.columns.map((c) => `${c.image}@${c.version.slice(7, 8)}`)).toEqual([
      "debian-12@b",
      "ubuntu-24.04@b",
      "ubuntu-24.04@a",
    ]);
    expect(view.rows.map((r) => r.cloudId)).toEqual(["cloud-1", "cloud-2", "cloud-3", "edge-0001"]);
    const cloud2 = view.rows[1]!;
    expect(cloud2.cells.map((c) => c?.state)).toEqual(["present", "transferring", undefined]);
    expect(view.counts).toMatchObject({ present: 3, transferring: 1, failed: 1, pending: 1, total: 6 });
    expect(view.imageNames).toEqual(["debian-12", "ubuntu-24.04"]);
  });

  it("a state filter keeps the clouds with a cell in that state, their other cells too", () => {
    const view = imageGridView(halfWaySnapshot(), ImageQuerySchema.parse({ state: "failed" }));
    expect(view.rows.map((r) => r.cloudId)).toEqual(["cloud-3"]);
    expect(view.clouds).toBe(1);
    const unknown = ImageQuerySchema.parse({ state: "exploded", page: "-3" });
    expect(unknown).toMatchObject({ state: undefined, page: 1 });
  });

  it("pages the clouds, not the images", () => {
    const rows = Array.from({ length: 120 }, (_, i) =>
      row({ cloudId: `edge-${String(i).padStart(4, "0")}`, state: "present" }),
    );
    const snapshot = { writtenAt: "2026-12-06T12:00:00.000Z", running: false, rows };
    const view = imageGridView(snapshot, ImageQuerySchema.parse({ page: "3" }));
    expect(view).toMatchObject({ pages: 3, pageNumber: 3, clouds: 120 });
    expect(view.rows.map((r) => r.cloudId)).toEqual(rows.slice(100).map((r) => r.cloudId));
    expect(view.columns).toHaveLength(1);
    expect(imageGridView(snapshot, ImageQuerySchema.parse({ page: "99" })).pageNumber).toBe(3);
  });

  it("before any distribution: an empty grid, and null as JSON", () => {
    const view = imageGridView(null, ImageQuerySchema.parse({}));
    expect(view).toMatchObject({ columns: [], rows: [], clouds: 0, pages: 1 });
    expect(filteredImageStatus(null, {})).toBeNull();
    expect(filteredImageStatus(halfWaySnapshot(), { image: "debian-12" })?.rows).toHaveLength(1);
  });
});
