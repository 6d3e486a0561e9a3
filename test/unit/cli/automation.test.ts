import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const CONFIG = "config/archway.example.yaml";

describe("the command line for automation", () => {
  it.each([
    ["sync", "apply", "--jsn"],
    ["config", "check", "--verbose"],
    ["policy", "check", "--bogus"],
    ["identity", "lookup", "demo", "alice", "--fast"],
    ["federation", "snippet", "cloud-1", "--json"],
    ["offboard", "alice", "--now"],
    ["serve", "--listen", "x"],
    ["worker", "--threads", "4"],
  ])("refuses an unknown flag with exit 2 before doing anything: %s %s %s", async (...argv) => {
    const io = captureIO();
    expect(await runCli([...argv, "--config", CONFIG], io)).toBe(2);
    expect(io.stderr()).toMatch(/Unknown option/);
    expect(io.stdout()).toBe("");
  });

  it.each([
    ["sync", "plan", "cloud-1"],
    ["config", "check", "extra"],
    ["policy", "check", "extra"],
    ["policy", "explain", "alice", "bob"],
    ["identity", "lookup", "demo", "alice", "bob"],
    ["identity", "unlock", "alice", "bob"],
    ["federation", "snippet", "cloud-1", "cloud-2"],
    ["serve", "now"],
  ])("refuses an unexpected argument with exit 2: %s %s %s", async (...argv) => {
    const io = captureIO();
    expect(await runCli([...argv, "--config", CONFIG], io)).toBe(2);
    expect(io.stderr()).toMatch(/unexpected argument|Unexpected argument/);
  });

  it("config check --json reports ok, counts and problems as one JSON document, exit 0 or 2", async () => {
    const ok = captureIO();
    expect(await runCli(["config", "check", "--json", "--config", CONFIG], ok)).toBe(0);
    expect(JSON.parse(ok.stdout())).toMatchObject({
      file: CONFIG,
      ok: true,
      clouds: 3,
      identitySources: 1,
      problems: [],
    });
    const dir = mkdtempSync(join(tmpdir(), "archway-cli-"));
    try {
      writeFileSync(join(dir, "archway.yaml"), "listen: { port: 99999 }\nclouds: []\n");
      const bad = captureIO();
      expect(await runCli(["config", "check", "--json", "--config", join(dir, "archway.yaml")], bad)).toBe(2);
      const report = JSON.parse(bad.stdout()) as { ok: boolean; problems: Array<{ path: string; line: number }> };
      expect(report.ok).toBe(false);
      expect(report.problems.map((p) => p.path)).toContain("listen.port");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("policy check --json lists the policies and the problems", async () => {
    const io = captureIO();
    expect(await runCli(["policy", "check", "--json", "--config", CONFIG], io)).toBe(0);
    const report = JSON.parse(io.stdout()) as { ok: boolean; policies: string[]; problems: unknown[] };
    expect(report.ok).toBe(true);
    expect(report.policies.length).toBeGreaterThan(3);
    expect(report.problems).toEqual([]);
  });

  it("policy check refuses an empty policy set unless --allow-empty", async () => {
    const dir = mkdtempSync(join(tmpdir(), "archway-empty-"));
    try {
      mkdirSync(join(dir, "policies"));
      writeFileSync(join(dir, "archway.yaml"), "clouds: []\npoliciesDir: policies\ndeploymentId: t\n");
      const refused = captureIO();
      expect(await runCli(["policy", "check", "--config", join(dir, "archway.yaml")], refused)).toBe(2);
      expect(refused.stderr()).toMatch(/no policies: nobody would get anything/);
      const allowed = captureIO();
      expect(await runCli(["policy", "check", "--allow-empty", "--config", join(dir, "archway.yaml")], allowed)).toBe(
        0,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("archway --version prints the package's version", async () => {
    const io = captureIO();
    expect(await runCli(["--version"], io)).toBe(0);
    const { version } = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(io.stdout().trim()).toBe(`archway ${version}`);
  });
});
