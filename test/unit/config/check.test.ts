import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "archway-config-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("archway config check", () => {
  it("accepts the example config with exit code 0", async () => {
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", "config/archway.example.yaml"], io)).toBe(0);
    expect(io.stdout()).toMatch(/ok \(3 clouds, 1 identity sources\)/);
  });

  it("prints one located line per problem and exits 2", async () => {
    const dir = tempConfig({
      "archway.yaml": [
        "listen:",
        "  port: http", // line 2: wrong type
        "clouds:",
        "  - id: Cloud_1", // line 4: bad id
        "    authUrl: not-a-url",
        "    admin: { username: admin, password: x }",
        "    colour: blue", // unknown key
        "",
      ].join("\n"),
    });
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    const lines = io.stderr().trim().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines).toContainEqual(expect.stringMatching(/archway\.yaml:2:9: listen\.port: .*expected number/));
    expect(lines).toContainEqual(expect.stringMatching(/archway\.yaml:4:9: clouds\[0\]\.id: expected lower-case/));
    expect(lines).toContainEqual(expect.stringMatching(/archway\.yaml:5:14: clouds\[0\]\.authUrl: /));
    expect(lines).toContainEqual(expect.stringMatching(/archway\.yaml:\d+:\d+: clouds\[0\]: unknown key 'colour'/));
  });

  it("reports YAML syntax errors with their position", async () => {
    const dir = tempConfig({ "archway.yaml": "listen:\n  port: [1, 2\n" });
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(/archway\.yaml:\d+:\d+: /);
  });

  it("reports a missing file clearly", async () => {
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", "/nonexistent/archway.yaml"], io)).toBe(2);
    expect(io.stderr()).toMatch(/archway\.yaml:1:1: cannot read file \(ENOENT\)/);
  });

  it("validates the clouds inventory folder and locates problems in its files", async () => {
    const dir = tempConfig({ "archway.yaml": "cloudsDir: inv\n" });
    const inv = join(dir, "inv");
    mkdirSync(inv);
    writeFileSync(
      join(inv, "a.yaml"),
      "clouds:\n  - id: edge-1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: a, password: b }\n",
    );
    writeFileSync(
      join(inv, "b.yaml"),
      "clouds:\n  - id: edge-2\n    authUrl: http://127.0.0.1:5000/v3\n    mode: sideways\n    admin: { username: a, password: b }\n",
    );
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(/inv\/b\.yaml:4:11: clouds\[0\]\.mode: /);
    expect(io.stderr()).not.toMatch(/a\.yaml/);
  });

  it("rejects duplicate cloud ids across the inventory", async () => {
    const dir = tempConfig({
      "archway.yaml":
        "cloudsDir: inv\nclouds:\n  - id: edge-1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: a, password: b }\n",
    });
    mkdirSync(join(dir, "inv"));
    writeFileSync(
      join(dir, "inv", "more.yaml"),
      "clouds:\n  - id: edge-1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: a, password: b }\n",
    );
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(/cloud id 'edge-1' is defined more than once/);
  });

  it("resolves ${env:...} secrets and never prints their values, even when the config around them is wrong", async () => {
    const secret = "s3cr3t-value-that-must-not-leak";
    const dir = tempConfig({
      "archway.yaml":
        "clouds:\n  - id: c1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: admin, password: '${env:CLOUD_PW}' }\n    region: 42\n",
    });
    const io = captureIO({ CLOUD_PW: secret });
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(/clouds\[0\]\.region/);
    expect(io.stderr() + io.stdout()).not.toContain(secret);
  });

  it("names an unset environment variable and an unreadable secret file without guessing values", async () => {
    const dir = tempConfig({
      "archway.yaml": "secrets:\n  shadowPasswordKey: ${env:NOT_SET_ANYWHERE}\n  sessionKey: ${file:missing-secret}\n",
    });
    const io = captureIO({});
    expect(await runCli(["config", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
    expect(io.stderr()).toMatch(
      /archway\.yaml:2:22: secrets\.shadowPasswordKey: environment variable NOT_SET_ANYWHERE is not set/,
    );
    expect(io.stderr()).toMatch(/secrets\.sessionKey: secret file .*missing-secret cannot be read \(ENOENT\)/);
  });
});

describe("archway config schema", () => {
  it("prints a JSON Schema that describes clouds and identity sources", async () => {
    const io = captureIO();
    expect(await runCli(["config", "schema"], io)).toBe(0);
    const schema = JSON.parse(io.stdout());
    expect(schema.type).toBe("object");
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["clouds", "identity", "store", "signing", "sync"]),
    );
  });
});
