import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { commands } from "../../../src/cli/index.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const CONFIG = ["--config", "config/archway.example.yaml"];
const dir = mkdtempSync(join(tmpdir(), "archway-refusals-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Files a command would write if it ran: none of them may exist after a refusal.
const OUT = join(dir, "plan.json");
const CLOUDS_FILE = join(dir, "clouds.yaml");
const SAVED = join(dir, "saved.json");
writeFileSync(SAVED, "{}");
const MAPPING = join(dir, "mapping.json");
writeFileSync(MAPPING, "[]");

/**
 * Every way to call every command, with all its positionals (so one more is a stray). `takesMore`: the form takes
 * an optional positional (`sync apply [FILE]`), so a stray is checked on the fuller form instead.
 */
const FORMS: Record<string, { argv: string[]; takesMore?: boolean }[]> = {
  serve: [{ argv: ["serve", ...CONFIG] }],
  config: [
    { argv: ["config", "check", ...CONFIG] },
    { argv: ["config", "schema", "config"] },
    { argv: ["config", "hash-password"] },
  ],
  policy: [
    { argv: ["policy", "check", ...CONFIG] },
    { argv: ["policy", "explain", "alice", ...CONFIG] },
    { argv: ["policy", "import-keystone", MAPPING] },
  ],
  identity: [
    { argv: ["identity", "lookup", "demo", "alice", ...CONFIG] },
    { argv: ["identity", "unlock", "alice", ...CONFIG] },
  ],
  sync: [
    { argv: ["sync", "plan", ...CONFIG] },
    { argv: ["sync", "plan", "--out", OUT, "--detailed-exitcode", ...CONFIG] },
    { argv: ["sync", "apply", ...CONFIG], takesMore: true },
    { argv: ["sync", "apply", SAVED, ...CONFIG] },
  ],
  worker: [{ argv: ["worker", ...CONFIG] }],
  quota: [{ argv: ["quota", "report", ...CONFIG] }],
  images: [{ argv: ["images", "status", ...CONFIG] }],
  federation: [{ argv: ["federation", "snippet", "cloud-1", ...CONFIG] }],
  offboard: [
    { argv: ["offboard", "alice@demo", ...CONFIG] },
    { argv: ["offboard", "--undo", "alice@demo", ...CONFIG] },
    { argv: ["offboard", "--pending", ...CONFIG] },
  ],
  login: [
    { argv: ["login", "--url", "http://127.0.0.1:9", "--clouds-file", CLOUDS_FILE] },
    { argv: ["login", "--status", "--clouds-file", CLOUDS_FILE] },
    { argv: ["login", "--refresh", "--clouds-file", CLOUDS_FILE] },
    { argv: ["login", "--logout", "--clouds-file", CLOUDS_FILE] },
  ],
};

const rows = Object.values(FORMS).flat();

describe("every command refuses what it does not know, with exit 2, before doing anything", () => {
  it("the table has every command of the CLI and every subcommand", () => {
    expect(Object.keys(FORMS).sort()).toEqual(commands.map((c) => c.name).sort());
    for (const command of commands)
      for (const sub of command.subcommands ?? [])
        expect(
          FORMS[command.name]?.some((f) => f.argv[1] === sub),
          `${command.name} ${sub}`,
        ).toBe(true);
  });

  it.each(rows.map((r) => [r.argv.join(" "), r.argv] as const))("%s --bogus", async (_, argv) => {
    const io = captureIO();
    expect(await runCli([...argv, "--bogus"], io)).toBe(2);
    expect(io.stderr()).toMatch(/Unknown option '--bogus'/);
    expect(io.stdout()).toBe("");
    expect(existsSync(OUT) || existsSync(CLOUDS_FILE)).toBe(false);
  });

  it.each(rows.filter((r) => !r.takesMore).map((r) => [r.argv.join(" "), r.argv] as const))(
    "%s stray",
    async (_, argv) => {
      const io = captureIO();
      const line = [...argv, "stray"];
      expect(await runCli(line, io)).toBe(2);
      expect(io.stderr()).toMatch(/unexpected argument 'stray'|Unexpected argument 'stray'/);
      expect(io.stdout()).toBe("");
      expect(existsSync(OUT) || existsSync(CLOUDS_FILE)).toBe(false);
    },
  );

  it.each([
    [["sync", "plna"], /unknown subcommand 'plna' \(did you mean 'plan'\?\)/],
    [["config", "chek"], /unknown subcommand 'chek' \(did you mean 'check'\?\)/],
    [["policy", "explian", "alice"], /did you mean 'explain'\?/],
    [["identity", "lokup", "demo", "alice"], /did you mean 'lookup'\?/],
    [["federation", "snipet", "cloud-1"], /did you mean 'snippet'\?/],
  ])("a mistyped subcommand is refused with a hint: %j", async (argv, message) => {
    const io = captureIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.stderr()).toMatch(message);
  });
});
