import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { committedSchemas, schemaByName } from "../../../src/cli/schemas.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// Regenerate the committed copies with: UPDATE_SCHEMAS=1 npx vitest run --project unit test/unit/cli/schemas.test.ts
const update = process.env.UPDATE_SCHEMAS === "1";

describe("the JSON Schemas for editors and automation", () => {
  it.each(Object.entries(committedSchemas()))("%s is committed and equal to what the code generates", (path, text) => {
    if (update) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
    }
    let committed = "";
    try {
      committed = readFileSync(path, "utf8");
    } catch {
      // missing: the assertion below says which file
    }
    expect(committed, `${path} is out of date: run UPDATE_SCHEMAS=1 on this test`).toBe(text);
  });

  it("archway config schema prints the config's schema, with the fields' descriptions", async () => {
    const io = captureIO();
    expect(await runCli(["config", "schema"], io)).toBe(0);
    type Node = { title?: string; description?: string; properties: Record<string, Node>; items: Node };
    const schema = JSON.parse(io.stdout()) as Node;
    expect(schema).toEqual(schemaByName("config"));
    expect(schema.title).toMatch(/Archway configuration/);
    const p = schema.properties;
    expect(p.sync?.properties.maxDeletesPerRun?.description).toMatch(/Deletions .* per cloud/);
    expect(p.clouds?.items.properties.labels?.description).toMatch(/policies select clouds/);
    expect(p.demo?.description).toMatch(/Demo mode/);
    // Most fields say what they are: count the described ones.
    const described = JSON.stringify(schema).match(/"description"/g)?.length ?? 0;
    expect(described).toBeGreaterThan(60);
  });

  it("prints the policy and report schemas by name, and refuses an unknown name with a hint", async () => {
    const policy = captureIO();
    expect(await runCli(["config", "schema", "policy"], policy)).toBe(0);
    expect(JSON.stringify(JSON.parse(policy.stdout()))).toMatch(/AccessPolicy/);
    const report = captureIO();
    expect(await runCli(["config", "schema", "report:sync-plan"], report)).toBe(0);
    expect(JSON.parse(report.stdout()).properties.overDeleteLimit.description).toMatch(/apply refuses/);
    const bad = captureIO();
    expect(await runCli(["config", "schema", "polcy"], bad)).toBe(2);
    expect(bad.stderr()).toMatch(/unknown schema 'polcy' \(did you mean 'policy'\?\)/);
  });
});
