import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ImageStatusRow, ImageStatusSnapshotSchema, writeImageStatus } from "../../../src/images/index.js";
import { runCli } from "../../../src/main.js";
import { RedisStore } from "../../../src/store/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";

// Issue #28: `archway images status` reads the snapshot a gateway's image distribution wrote to the shared Redis
// (src/images/status.ts), from another process's configuration, as an operator runs it. The distribution itself is
// tested elsewhere: the snapshot is written here with writeImageStatus, as it stands mid-run.
const prefix = `images-status-${randomBytes(4).toString("hex")}:`;
const dir = mkdtempSync(join(tmpdir(), "archway-images-status-"));
const configFile = join(dir, "archway.yaml");
let store: RedisStore;
const MiB = 1024 * 1024;

const row = (r: Partial<ImageStatusRow> & Pick<ImageStatusRow, "cloudId" | "state">): ImageStatusRow => ({
  imageSet: "base",
  image: "ubuntu-24.04",
  version: `sha512:${"c".repeat(128)}`,
  updatedAt: "2026-12-06T12:00:00.000Z",
  ...r,
});

const cli = async (argv: string[], tty = false) => {
  const io = captureIO();
  io.isTTY = tty;
  const code = await runCli(["images", "status", ...argv, "--config", configFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

beforeAll(async () => {
  const redis = loadEndpoints().redis.url;
  const cloud = (id: string, port: number) =>
    `  - { id: ${id}, authUrl: "http://127.0.0.1:${port}/v3", admin: { username: a, password: b, projectName: admin } }\n`;
  writeFileSync(
    configFile,
    "demo: true\nidentity:\n  sources:\n    - { id: demo, type: static, users: [] }\n" +
      `clouds:\n${cloud("cloud-1", 8)}${cloud("cloud-2", 9)}` +
      `store: { type: redis, url: "${redis}", keyPrefix: "${prefix}" }\n`,
  );
  store = new RedisStore({ type: "redis", url: redis, keyPrefix: prefix, db: 0, tls: false, commandTimeoutMs: 2_000 });
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("archway images status on a shared Redis", () => {
  it("before any distribution: says so, exit 0", async () => {
    const run = await cli([]);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/no image status yet/);
    expect(run.err).toBe("");
  });

  it("mid-run: a bar per transfer on a terminal, exit 1 because cloud-1 failed; --cloud cloud-2 exits 0", async () => {
    await writeImageStatus(store, {
      writtenAt: "2026-12-06T12:00:05.000Z",
      running: true,
      rows: [
        row({ cloudId: "cloud-2", state: "transferring", bytesDone: 64 * MiB, totalBytes: 256 * MiB }),
        row({ cloudId: "cloud-1", state: "failed", code: "image_upload_failed", reason: "Glance answered 503" }),
      ],
    });
    const tty = await cli([], true);
    expect(tty.code, tty.err).toBe(1);
    expect(tty.out).toMatch(/^cloud-1 +failed +image_upload_failed: Glance answered 503$/m);
    expect(tty.out).toMatch(/^cloud-2 +transferring +\[#{8}\.{22}\] 64\.0 MiB of 256\.0 MiB \(25%\)$/m);
    expect(tty.out).toMatch(/^summary: 0 present, 1 transferring, 1 failed, 0 pending$/m);

    const one = await cli(["--cloud", "cloud-2"]);
    expect(one.code, one.err).toBe(0);
    expect(one.out).toMatch(/^ {2}cloud-2: transferring 64\.0 MiB of 256\.0 MiB \(25%\)$/m);
    expect(one.out).not.toContain("cloud-1");
  });

  it("--json: the snapshot as the schema has it, filtered by image", async () => {
    const run = await cli(["--json", "--image", "ubuntu-24.04"]);
    expect(run.code).toBe(1);
    const printed = ImageStatusSnapshotSchema.parse(JSON.parse(run.out));
    expect(printed.rows.map((r) => r.cloudId).sort()).toEqual(["cloud-1", "cloud-2"]);
    const none = ImageStatusSnapshotSchema.parse(JSON.parse((await cli(["--json", "--image", "debian"])).out));
    expect(none.rows).toEqual([]);
  });
});
