import { describe, expect, it } from "vitest";
import {
  countImageStates,
  filterImageStatus,
  formatBytes,
  groupImageStatus,
  ImageStatusSnapshotSchema,
  rowDetail,
  shortVersion,
} from "../../../src/images/index.js";
import { halfWaySnapshot, row } from "./status-fixture.js";

describe("the image status as its readers show it", () => {
  it("groups rows per image version, newest version first, clouds in order", () => {
    const groups = groupImageStatus(halfWaySnapshot().rows);
    expect(groups.map((g) => [g.image, g.version.slice(0, 8)])).toEqual([
      ["debian-12", "sha512:b"],
      ["ubuntu-24.04", "sha512:b"],
      ["ubuntu-24.04", "sha512:a"],
    ]);
    expect(groups[1]!.rows.map((r) => r.cloudId)).toEqual(["cloud-1", "cloud-2", "cloud-3", "edge-0001"]);
    expect(groups[1]!.counts).toEqual({ present: 1, transferring: 1, failed: 1, pending: 1, total: 4 });
  });

  it("filters by cloud and by image name and stays a valid snapshot", () => {
    const snapshot = halfWaySnapshot();
    const cloud2 = filterImageStatus(snapshot, { cloud: "cloud-2" });
    expect(cloud2.rows.map((r) => r.image).sort()).toEqual(["debian-12", "ubuntu-24.04"]);
    expect(ImageStatusSnapshotSchema.parse(cloud2)).toEqual(cloud2);
    const ubuntu = filterImageStatus(snapshot, { image: "ubuntu-24.04", cloud: "cloud-1" });
    expect(ubuntu.rows).toHaveLength(2);
    expect(countImageStates(ubuntu.rows)).toMatchObject({ present: 2, total: 2 });
    expect(filterImageStatus(snapshot, {}).rows).toHaveLength(6);
  });

  it("says bytes for transfers and code and reason for failures", () => {
    const [transferring, , failed, pending] = halfWaySnapshot().rows;
    expect(rowDetail(transferring!)).toBe("128.0 MiB of 256.0 MiB (50%)");
    expect(rowDetail(failed!)).toBe("image_verification_failed: Glance's sha512 differs from the source's");
    expect(rowDetail(pending!)).toBe("cloud_unavailable: Keystone did not answer");
    expect(rowDetail(row({ cloudId: "c", state: "transferring", bytesDone: 1536 }))).toBe("1.5 KiB sent");
    expect(rowDetail(row({ cloudId: "c", state: "present" }))).toBe("");
  });

  it("formats bytes and versions for people", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1024 ** 3)).toBe("1.0 GiB");
    expect(shortVersion(`sha256:${"0123456789abcdef".repeat(4)}`)).toBe("sha256:0123456789ab");
  });
});
