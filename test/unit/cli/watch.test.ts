import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { watchConfigFiles } from "../../../src/cli/watch.js";
import { createLogger } from "../../../src/log/index.js";

const dir = mkdtempSync(join(tmpdir(), "archway-watch-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("watching the configuration files", () => {
  it("a burst of writes is one reload; files that do not count are ignored", async () => {
    const policies = join(dir, "policies");
    mkdirSync(policies);
    let reloads = 0;
    const stop = watchConfigFiles([{ dir: policies, matches: (n) => n.endsWith(".yaml") }], {
      debounceMs: 300,
      onChange: () => reloads++,
      log,
    });
    try {
      for (let i = 0; i < 5; i++) writeFileSync(join(policies, "a.yaml"), `# ${i}\n`);
      await sleep(2_000);
      expect(reloads).toBe(1);
      writeFileSync(join(policies, "notes.txt"), "not a policy");
      await sleep(1_000);
      expect(reloads).toBe(1);
    } finally {
      stop();
    }
    writeFileSync(join(policies, "b.yaml"), "# after stop\n");
    await sleep(1_000);
    expect(reloads).toBe(1);
  }, 20_000);

  it("a folder that cannot be watched is skipped (SIGHUP still reloads)", () => {
    const stop = watchConfigFiles([{ dir: join(dir, "missing"), matches: () => true }], {
      debounceMs: 10,
      onChange: () => {},
      log,
    });
    stop();
  });
});
