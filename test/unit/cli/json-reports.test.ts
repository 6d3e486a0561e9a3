import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { REPORTS } from "../../../src/cli/reports.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const CONFIG = ["--config", "config/archway.example.yaml"];
const dir = mkdtempSync(join(tmpdir(), "archway-json-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mapping = join(dir, "mapping.json");
writeFileSync(
  mapping,
  JSON.stringify({
    rules: [
      {
        local: [{ user: { name: "{0}" } }, { groups: "{1}", domain: { name: "fed" } }],
        remote: [{ type: "REMOTE_USER" }, { type: "OIDC_CLAIM_groups", whitelist: ["devs"] }],
      },
      { local: [{ group: { id: "abc123" } }], remote: [{ type: "REMOTE_USER" }] },
    ],
  }),
);

/** Runs a command and parses its stdout with the report's schema; keys the schema does not name fail too. */
async function report(name: keyof typeof REPORTS, argv: string[], exit = 0) {
  const io = captureIO();
  expect(await runCli(argv, io), io.stderr()).toBe(exit);
  const raw = JSON.parse(io.stdout()) as Record<string, unknown>;
  const schema: z.ZodType = REPORTS[name];
  const parsed = schema.safeParse(raw);
  expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  if (shape) expect(Object.keys(raw).filter((k) => !(k in shape))).toEqual([]);
  return raw;
}

describe("--json reports: one document on stdout, described by its schema (src/cli/reports.ts)", () => {
  it("config check", async () => {
    expect((await report("config-check", ["config", "check", "--json", ...CONFIG])).ok).toBe(true);
  });

  it("policy check and explain", async () => {
    expect((await report("policy-check", ["policy", "check", "--json", ...CONFIG])).ok).toBe(true);
    const explained = await report("policy-explain", ["policy", "explain", "alice", "--json", ...CONFIG]);
    expect(Object.keys(explained.access as object).length).toBeGreaterThan(0);
    const one = await report("policy-explain", [
      "policy",
      "explain",
      "alice",
      "--cloud",
      "cloud-2",
      "--json",
      ...CONFIG,
    ]);
    expect(Object.keys(one.access as object)).toEqual(["cloud-2"]);
  });

  it("policy import-keystone", async () => {
    // One rule converts, one cannot (group ids): exit 2, both in the document.
    const imported = await report("policy-import-keystone", ["policy", "import-keystone", mapping, "--json"], 2);
    expect(imported.yaml).toMatch(/AccessPolicy/);
    expect(imported.refused).toEqual([expect.stringMatching(/group ids differ in every cloud/)]);
  });

  it("identity lookup and unlock", async () => {
    const who = await report("identity-lookup", ["identity", "lookup", "demo", "alice", "--json", ...CONFIG]);
    expect(who.username).toBe("alice");
    const unlocked = await report("identity-unlock", ["identity", "unlock", "alice", "--json", ...CONFIG]);
    expect(unlocked.known).toBe(true);
  });

  it("offboard --pending", async () => {
    expect(await report("offboard-pending", ["offboard", "--pending", "--json", ...CONFIG])).toEqual({});
  });

  it("login --status, signed out (exit 1)", async () => {
    const status = await report(
      "login-status",
      ["login", "--status", "--json", "--clouds-file", join(dir, "clouds.yaml")],
      1,
    );
    expect(status.signedIn).toBe(false);
  });

  it("every report is in docs/cli-json.md with each of its top-level fields", () => {
    const doc = readFileSync("docs/cli-json.md", "utf8");
    for (const [name, schema] of Object.entries(REPORTS)) {
      const section = doc.split(/\n### /).find((s) => s.startsWith(`\`${name}\``));
      expect(section, `docs/cli-json.md has no section ### \`${name}\``).toBeDefined();
      const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
      for (const key of Object.keys(shape)) expect(section, `${name}.${key}`).toContain(`\`${key}\``);
    }
  });
});
