import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { SyncApplyReportSchema, SyncPlanReportSchema } from "../../../src/cli/reports.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";
import { type Deployment, writeDeployment } from "../sync/deployment.js";

// sync apply on the three real Keystones as a person at a terminal sees it, then as automation does; then a plan
// over the deletion limit, which must not go unnoticed.
let dep: Deployment;
beforeAll(async () => {
  dep = await writeDeployment({ people: 3, maxDeletes: 2 });
}, 60_000);
afterAll(async () => {
  await dep?.remove();
});

const cli = async (argv: string[], tty = false) => {
  const io = captureIO();
  io.isTTY = tty;
  const frames: string[] = [];
  io.errRaw = (text) => frames.push(text);
  const code = await runCli([...argv, "--config", dep.configFile], io);
  return { code, out: io.stdout(), err: io.stderr(), frames: frames.join("") };
};

describe("sync apply and plan, for people and for automation", () => {
  it("on a terminal: a bar per phase on stderr while it runs, then the summary table on stdout", async () => {
    const run = await cli(["sync", "apply"], true);
    expect(run.code, run.err).toBe(0);
    expect(run.frames).toMatch(/plan +\[#+\] 3\/3 clouds read and planned/);
    expect(run.frames).toMatch(/apply +\[#+\] (\d+)\/\1 operations/);
    expect(run.frames).toMatch(/done +\[#+\] 3\/3 clouds/);
    const lines = run.out.split("\n");
    expect(lines[0]).toMatch(/^cloud +outcome +create +update +revoke +disable +delete +failed$/);
    for (const id of ["cloud-1", "cloud-2", "cloud-3"])
      expect(run.out).toMatch(new RegExp(`^${id} +converged +[1-9]\\d* +\\d+ +0 +0 +0 +0$`, "m"));
    expect(run.out).toMatch(/^total +3\/3 converged/m);
    expect(run.out).toMatch(/run \S+: 3 of 3 clouds converged/);
  }, 120_000);

  it("without a terminal: no bars; --json is one document with the summary", async () => {
    const run = await cli(["sync", "apply", "--json"]);
    expect(run.code, run.err).toBe(0);
    expect(run.frames).toBe("");
    const report = SyncApplyReportSchema.parse(JSON.parse(run.out));
    expect(report.summary).toMatchObject({ clouds: 3, converged: 3, refused: 0, failed: 0 });
    expect(report.summary.totals.create).toBe(0); // in sync since the run above
  }, 120_000);

  it("a plan over maxDeletesPerRun says so at the end (text and JSON) and exits 1 with --detailed-exitcode", async () => {
    // Everyone leaves the team: each cloud plans 3 revokes and 3 disables, over the limit of 2.
    const config = parse(readFileSync(dep.configFile, "utf8")) as {
      identity: { sources: { users: { groups: string[] }[] }[] };
    };
    for (const user of config.identity.sources[0]?.users ?? []) user.groups = [];
    writeFileSync(dep.configFile, stringify(config));

    const text = await cli(["sync", "plan", "--detailed-exitcode"]);
    expect(text.code, text.err).toBe(1);
    const last = text.out.trim().split("\n").at(-1) ?? "";
    expect(last).toMatch(
      /^!! 3 cloud\(s\) over sync\.maxDeletesPerRun\.perCloud = 2: cloud-1, cloud-2, cloud-3\. apply will refuse them/,
    );

    const json = await cli(["sync", "plan", "--json", "--detailed-exitcode"]);
    expect(json.code).toBe(1);
    const report = SyncPlanReportSchema.parse(JSON.parse(json.out));
    expect(report.overDeleteLimit.sort()).toEqual(["cloud-1", "cloud-2", "cloud-3"]);
    expect(report.clouds.every((c) => c.overDeleteLimit && c.destructive > 2)).toBe(true);
    expect(report.maxDeletesPerRun.perCloud).toBe(2);

    // And apply indeed refuses every cloud, touching nothing.
    const applied = await cli(["sync", "apply", "--json"]);
    expect(applied.code).toBe(1);
    const result = SyncApplyReportSchema.parse(JSON.parse(applied.out));
    expect(result.summary).toMatchObject({ refused: 3, converged: 0 });
    expect(result.summary.totals.revoke).toBe(0);
  }, 120_000);

  it("--cloud with a typo is refused with exit 2 and the closest cloud", async () => {
    const run = await cli(["sync", "plan", "--cloud", "clodu-2"]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/unknown cloud 'clodu-2' \(did you mean 'cloud-2'\?\)/);
  });
});
