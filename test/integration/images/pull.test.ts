import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageTransfers, SOURCE_DIGEST_MISMATCH } from "../../../src/images/index.js";
import { fileServer, glances, marked, randomFile, removeMarked, runMark } from "./helpers.js";

const { targets, close } = glances();
const mark = runMark();
let file: Awaited<ReturnType<typeof randomFile>>;
let server: Awaited<ReturnType<typeof fileServer>>;

describe("each cloud pulls the image itself (web-download) from a local http server", () => {
  beforeAll(async () => {
    file = await randomFile(32);
    server = await fileServer(file.path);
  }, 60_000);

  afterAll(async () => {
    await removeMarked(targets, mark);
    await server?.close();
    file?.remove();
    await close();
  });

  it("all three import it from 127.0.0.1 and their sha512 and md5 match the source", async () => {
    const report = await new ImageTransfers({ pollMs: 250 }).pull({
      source: { kind: "url", url: server.url, pin: { algorithm: "sha512", value: file.sha512 } },
      image: { name: "golden-pulled", diskFormat: "raw", containerFormat: "bare" },
      mark,
      targets,
    });
    expect(report.outcomes.map((o) => (o.ok ? "active" : o.reason))).toEqual(targets.map(() => "active"));
    for (const { glance } of targets) {
      const images = await marked(glance, mark);
      expect(images.map((i) => [i.status, i.os_hash_value, i.size])).toEqual([["active", file.sha512, file.size]]);
    }
  }, 180_000);

  it("a source that fails its pin is refused before any cloud creates an image", async () => {
    const badMark = { ...mark, archway_imageset: `${mark.archway_imageset}-bad` };
    const report = await new ImageTransfers().pull({
      source: { kind: "url", url: server.url, pin: { algorithm: "sha512", value: "ab".repeat(64) } },
      image: { name: "golden-pulled-bad", diskFormat: "raw", containerFormat: "bare" },
      mark: badMark,
      targets,
    });
    expect(report.outcomes.map((o) => (o.ok ? "active" : o.code))).toEqual(targets.map(() => SOURCE_DIGEST_MISMATCH));
    for (const { glance } of targets) expect(await marked(glance, badMark)).toEqual([]);
  }, 60_000);
});
