import { describe, expect, it } from "vitest";
import { showImageStatus } from "../../../src/cli/images.js";
import { ImageStatusSnapshotSchema, writeImageStatus } from "../../../src/images/index.js";
import { runCli } from "../../../src/main.js";
import { MemoryStore } from "../../../src/store/index.js";
import { captureIO } from "../../helpers/io.js";
import { halfWaySnapshot } from "../images/status-fixture.js";

const CONFIG = "config/archway.example.yaml";

async function storeWith(snapshot = halfWaySnapshot()): Promise<MemoryStore> {
  const store = new MemoryStore();
  await writeImageStatus(store, snapshot);
  return store;
}

describe("archway images status", () => {
  it("without a terminal: a line per image version and cloud, the counts, exit 1 because one failed", async () => {
    const io = captureIO();
    expect(await showImageStatus(await storeWith(), {}, { json: false }, io)).toBe(1);
    const out = io.stdout();
    expect(out).toContain(
      "ubuntu-24.04 (set base, version sha512:bbbbbbbbbbbb): 1 present, 1 transferring, 1 failed, 1 pending",
    );
    expect(out).toMatch(/^ {2}cloud-2: transferring 128\.0 MiB of 256\.0 MiB \(50%\)$/m);
    expect(out).toMatch(/^ {2}cloud-3: failed image_verification_failed: Glance's sha512 differs/m);
    expect(out).toMatch(/^ {2}edge-0001: pending cloud_unavailable: Keystone did not answer$/m);
    expect(out).toMatch(/^summary: 3 present, 1 transferring, 1 failed, 1 pending$/m);
    expect(out).toMatch(/^written 2026-12-06T12:00:05\.000Z \(transfers running/m);
    expect(out).not.toContain("[#");
  });

  it("on a terminal: a table per version, failures first, a bar per transfer", async () => {
    const io = captureIO();
    io.isTTY = true;
    await showImageStatus(await storeWith(), { image: "ubuntu-24.04" }, { json: false }, io);
    const lines = io.stdout().split("\n");
    const start = lines.indexOf("ubuntu-24.04 (set base, version sha512:bbbbbbbbbbbb)");
    expect(lines[start + 1]).toMatch(/^cloud +state +progress \/ reason$/);
    expect(lines[start + 3]).toMatch(/^cloud-3 +failed +image_verification_failed/);
    expect(lines[start + 4]).toMatch(/^cloud-2 +transferring +\[#{15}\.{15}\] 128\.0 MiB of 256\.0 MiB \(50%\)$/);
    expect(lines[start + 5]).toMatch(/^edge-0001 +pending/);
    expect(lines[start + 6]).toMatch(/^cloud-1 +present$/);
    expect(io.stdout()).not.toContain("debian-12");
  });

  it("on a terminal, a thousand clouds fold into counts past the first 40 rows", async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      imageSet: "base",
      image: "edge-os",
      version: "sha256:00",
      cloudId: `edge-${String(i).padStart(4, "0")}`,
      state: i < 3 ? ("failed" as const) : ("present" as const),
      updatedAt: "2026-12-06T12:00:00.000Z",
    }));
    const io = captureIO();
    io.isTTY = true;
    const code = await showImageStatus(
      await storeWith({ writtenAt: "2026-12-06T12:00:00.000Z", running: false, rows }),
      {},
      { json: false },
      io,
    );
    expect(code).toBe(1);
    expect(io.stdout().split("\n").length).toBeLessThan(60);
    expect(io.stdout()).toContain("... 960 more: 960 present, 0 transferring, 0 failed, 0 pending");
    expect(io.stdout()).toContain("summary: 997 present, 0 transferring, 3 failed, 0 pending");
  });

  it("--json: the filtered snapshot, valid against the schema; exit 0 when nothing shown failed", async () => {
    const io = captureIO();
    expect(await showImageStatus(await storeWith(), { cloud: "cloud-2" }, { json: true }, io)).toBe(0);
    const printed = ImageStatusSnapshotSchema.parse(JSON.parse(io.stdout()));
    expect(printed.running).toBe(true);
    expect(printed.rows.map((r) => [r.image, r.state]).sort()).toEqual([
      ["debian-12", "present"],
      ["ubuntu-24.04", "transferring"],
    ]);
  });

  it("before any distribution: says so (null in JSON), exit 0", async () => {
    const text = captureIO();
    expect(await showImageStatus(new MemoryStore(), {}, { json: false }, text)).toBe(0);
    expect(text.stdout()).toMatch(/no image status yet/);
    const json = captureIO();
    await showImageStatus(new MemoryStore(), {}, { json: true }, json);
    expect(JSON.parse(json.stdout())).toBeNull();
  });

  it.each([
    [["images", "status", "--jsn"], /Unknown option/],
    [["images", "status", "extra"], /unexpected argument 'extra'/],
    [["images", "stats"], /unknown subcommand 'stats' \(did you mean 'status'\?\)/],
    [["images"], /expected a subcommand: status/],
    [["images", "status", "--cloud", "clodu-2"], /unknown cloud 'clodu-2'/],
  ])("refuses bad input with exit 2 before reading the store: %s", async (argv, message) => {
    const io = captureIO();
    expect(await runCli([...argv, "--config", CONFIG], io)).toBe(2);
    expect(io.stderr()).toMatch(message);
    expect(io.stdout()).toBe("");
  });
});
