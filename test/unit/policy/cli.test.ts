import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const dir = mkdtempSync(join(tmpdir(), "archway-policy-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("archway policy", () => {
  it("check: accepts the example policies", async () => {
    const io = captureIO();
    expect(await runCli(["policy", "check", "--config", "config/archway.example.yaml"], io)).toBe(0);
    expect(io.stdout()).toMatch(/ok \(5 policies\)/);
  });

  it("check: one located line per problem and exit 2", async () => {
    writeFileSync(
      join(dir, "archway.yaml"),
      "clouds:\n  - id: c1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: a, password: b }\npoliciesDir: pol\ndeploymentId: t\n",
    );
    mkdirSync(join(dir, "pol"), { recursive: true });
    writeFileSync(
      join(dir, "pol", "bad.yaml"),
      "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: x }\nspec:\n  clouds: { names: [c9] }\n",
    );
    const io = captureIO();
    expect(await runCli(["policy", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(/pol\/bad\.yaml:5:\d+: spec\.clouds\.names\[0\]: unknown cloud 'c9'/);
  });

  it("explain: a username from the identity sources, as text and JSON", async () => {
    const text = captureIO();
    expect(await runCli(["policy", "explain", "carol", "--config", "config/archway.example.yaml"], text)).toBe(0);
    expect(text.stdout()).toMatch(/DENY +no-contractors-at-the-edge/);
    expect(text.stdout()).toMatch(/member on archway\/u-carol/);
    const json = captureIO();
    expect(
      await runCli(
        ["policy", "explain", "bob", "--json", "--cloud", "cloud-2", "--config", "config/archway.example.yaml"],
        json,
      ),
    ).toBe(0);
    const result = JSON.parse(json.stdout()) as {
      access: Record<string, unknown>;
      policies: { name: string; matched: boolean; reason?: string }[];
    };
    expect(Object.keys(result.access)).toEqual(["cloud-2"]);
    expect(result.policies.find((p) => p.name === "cloud-admins-everywhere")).toMatchObject({
      matched: false,
      reason: "subjects.groups.anyOf: in none of [cloud-admins]",
    });
  });

  it("explain: an identity.json file", async () => {
    const file = join(dir, "dave.json");
    writeFileSync(file, JSON.stringify({ id: "x:dave", source: "demo", username: "dave", groups: ["retail-ops"] }));
    const io = captureIO();
    expect(await runCli(["policy", "explain", file, "--config", "config/archway.example.yaml"], io)).toBe(0);
    expect(io.stdout()).toMatch(/member on archway\/store-ops/);
  });

  it("import-keystone: YAML on stdout, refusals on stderr with exit 2", async () => {
    const ok = join(dir, "ok.json");
    writeFileSync(
      ok,
      JSON.stringify({ rules: [{ local: [{ user: { name: "{0}" } }], remote: [{ type: "REMOTE_USER" }] }] }),
    );
    const io = captureIO();
    expect(await runCli(["policy", "import-keystone", ok], io)).toBe(0);
    expect(io.stdout()).toMatch(/kind: AccessPolicy/);
    const bad = join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ rules: [{ local: [{ group: { id: "g1" } }], remote: [{ type: "REMOTE_USER" }] }] }),
    );
    const refused = captureIO();
    expect(await runCli(["policy", "import-keystone", bad], refused)).toBe(2);
    expect(refused.stderr()).toMatch(/bad\.json: rule 0: cannot be expressed: group ids differ in every cloud/);
  });
});
