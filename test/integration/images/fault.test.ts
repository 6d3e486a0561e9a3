import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageTransfers, type TransferProgress } from "../../../src/images/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { glances, marked, randomFile, removeMarked, runMark, testenv } from "./helpers.js";

const { targets, close } = glances();
const mark = runMark();
const victim = loadEndpoints().glances[1];
let file: Awaited<ReturnType<typeof randomFile>>;

describe("a Glance stopped in the middle of a transfer", () => {
  beforeAll(async () => {
    file = await randomFile(64);
  }, 60_000);

  afterAll(async () => {
    await removeMarked(targets, mark);
    file?.remove();
    await close();
  });

  it("the others finish; the stopped one completes after it returns, and no broken image stays", async () => {
    if (!victim) throw new Error("needs three glances");
    // ~8 MiB/s per cloud: the 64 MiB take ~8 s, long enough to stop a Glance half-way.
    let stopping: Promise<void> | undefined;
    const onProgress = (p: TransferProgress) => {
      if (!stopping && p.cloudId === victim.cloud && p.phase === "uploading" && (p.bytes ?? 0) > 16 << 20) {
        stopping = testenv("stop", victim.name).then(() => testenv("start", victim.name));
      }
    };
    const transfers = new ImageTransfers({
      caps: { perCloud: 8 << 20 },
      backoff: { attempts: 10, baseMs: 1_000, maxMs: 4_000 },
      onProgress,
    });
    try {
      const report = await transfers.stream({
        source: { kind: "file", path: file.path, pin: { algorithm: "sha512", value: file.sha512 } },
        image: { name: "golden-fault", diskFormat: "raw", containerFormat: "bare" },
        mark,
        targets,
      });
      expect(stopping).toBeDefined();
      const byCloud = Object.fromEntries(report.outcomes.map((o) => [o.cloudId, o]));
      for (const t of targets) expect(byCloud[t.cloudId]?.ok).toBe(true);
      expect(byCloud[victim.cloud]?.attempts).toBeGreaterThan(1);
      for (const t of targets.filter((t) => t.cloudId !== victim.cloud)) expect(byCloud[t.cloudId]?.attempts).toBe(1);
    } finally {
      await stopping?.catch(() => {});
      // Whatever happened, the Glance this test stopped is back.
      await testenv("start", victim.name);
    }
    for (const { glance, cloudId } of targets) {
      const images = await marked(glance, mark);
      expect(images.map((i) => [cloudId, i.status, i.os_hash_value])).toEqual([[cloudId, "active", file.sha512]]);
    }
  }, 240_000);
});
