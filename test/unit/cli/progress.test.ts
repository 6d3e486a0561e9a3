import { describe, expect, it } from "vitest";
import { applyProgress, summarize, summaryTable } from "../../../src/cli/progress.js";
import type { JobResult } from "../../../src/sync/index.js";
import { captureIO } from "../../helpers/io.js";

const result = (
  cloudId: string,
  outcome: JobResult["outcome"],
  counts: Partial<Record<string, number>> = {},
  failed = 0,
): JobResult => ({
  jobId: `r__${cloudId}`,
  cloudId,
  outcome,
  counts: { create: 0, update: 0, revoke: 0, disable: 0, delete: 0, ...counts } as Record<string, number>,
  applied: 0,
  failed,
  attempts: 1,
});

describe("sync apply's display", () => {
  it("the summary table: clouds x creates/updates/deletes/failures, failures first, clouds in sync folded, totals", () => {
    const table = summaryTable([
      result("cloud-1", "converged", { create: 3, update: 1 }),
      result("cloud-2", "applied_with_failures", { create: 2, delete: 1 }, 1),
      result("cloud-3", "converged"),
      result("cloud-4", "refused", { revoke: 30 }),
    ]);
    const lines = table.split("\n");
    expect(lines[0]).toMatch(/^cloud\s+outcome\s+create\s+update\s+revoke\s+disable\s+delete\s+failed$/);
    expect(lines[2]).toMatch(/^cloud-4\s+refused\s+0\s+0\s+30\s+0\s+0\s+0$/);
    expect(lines[3]).toMatch(/^cloud-2\s+applied_with_failures\s+2\s+0\s+0\s+0\s+1\s+1$/);
    expect(lines[4]).toMatch(/^cloud-1\s+converged\s+3\s+1/);
    expect(table).toMatch(/1 in sync\s+converged/);
    // A refused cloud applied nothing: its 30 revokes are not in the totals.
    expect(lines.at(-1)).toMatch(/^total\s+2\/4 converged\s+5\s+1\s+0\s+0\s+1\s+1$/);
    expect(summarize([result("a", "refused", { delete: 9 })]).totals.delete).toBe(0);
  });

  it("folds a fleet's worth of rows so that the table fits a screen", () => {
    const many = Array.from({ length: 1000 }, (_, i) => result(`c${i}`, "converged", { create: i % 3 }));
    const lines = summaryTable(many).split("\n");
    expect(lines.length).toBeLessThan(50);
    expect(lines.join("\n")).toMatch(/\.\.\. \d+ more/);
    expect(lines.join("\n")).toMatch(/334 in sync/);
  });

  it("on a terminal: one bar per phase on stderr, redrawn in place, and removed at the end", () => {
    const io = captureIO();
    io.isTTY = true;
    const frames: string[] = [];
    io.errRaw = (text) => frames.push(text);
    let t = 0;
    const bars = applyProgress(io, { clouds: 2, now: () => (t += 1000) });
    bars.operation("cloud-1", 1, 4);
    bars.operation("cloud-1", 4, 4);
    bars.result(result("cloud-1", "converged", { create: 4 }));
    bars.result(result("cloud-2", "converged"));
    bars.finish();
    const last = frames.at(-2) ?? "";
    expect(last).toMatch(/plan\s+\[#{30}\] 2\/2 clouds read and planned/);
    expect(last).toMatch(/apply\s+\[#{30}\] 4\/4 operations/);
    expect(last).toMatch(/done\s+\[#{30}\] 2\/2 clouds/);
    const up3 = "\u001b[3A";
    expect(frames[1]?.startsWith(up3)).toBe(true); // redrawn over the previous three lines
    expect(frames.at(-1)?.endsWith(up3)).toBe(true); // cleared, cursor back where the bars began
    expect(io.stdout()).toBe("");
  });

  it("without a terminal: no bars at all", () => {
    const io = captureIO();
    const frames: string[] = [];
    io.errRaw = (text) => frames.push(text);
    const bars = applyProgress(io, { clouds: 1 });
    bars.operation("cloud-1", 1, 1);
    bars.result(result("cloud-1", "converged"));
    bars.finish();
    expect(frames).toEqual([]);
    expect(io.stderr()).toBe("");
  });
});
