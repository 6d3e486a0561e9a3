import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const CONFIG = ["--config", "config/archway.example.yaml"];
const dir = mkdtempSync(join(tmpdir(), "archway-hints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = async (argv: string[]) => {
  const io = captureIO();
  const code = await runCli(argv, io);
  return { code, err: io.stderr(), out: io.stdout() };
};

describe("did you mean: clouds, labels, roles, sources", () => {
  it.each([
    [["policy", "explain", "alice", "--cloud", "clodu-2", ...CONFIG]],
    [["federation", "snippet", "clodu-2", ...CONFIG]],
  ])("an unknown --cloud or cloud argument is refused with exit 2 and the closest cloud: %j", async (argv) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown cloud 'clodu-2' \(did you mean 'cloud-2'\?\)/);
  });

  it("an unknown identity source", async () => {
    const r = await run(["identity", "lookup", "dem", "alice", ...CONFIG]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown identity source 'dem' \(did you mean 'demo'\?\)/);
  });

  it("a policy naming a cloud, a label, a label value or a role no cloud has", async () => {
    mkdirSync(join(dir, "policies"));
    writeFileSync(
      join(dir, "archway.yaml"),
      [
        "deploymentId: hints",
        "policiesDir: policies",
        "identity: { sources: [{ id: demo, type: static, users: [] }] }",
        "clouds:",
        '  - { id: cloud-1, authUrl: "http://127.0.0.1:9/v3", labels: { kind: edge }, admin: { username: a, password: b } }',
        '  - { id: cloud-2, authUrl: "http://127.0.0.1:10/v3", labels: { kind: core }, admin: { username: a, password: b } }',
      ].join("\n"),
    );
    const policy = (name: string, clouds: string, role = "member") =>
      `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${name} }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  clouds: ${clouds}\n  grants: [{ project: p, roles: [${role}] }]\n`;
    writeFileSync(join(dir, "policies", "a.yaml"), policy("a", "{ names: [clodu-2] }"));
    writeFileSync(join(dir, "policies", "b.yaml"), policy("b", "{ labels: { knd: edge } }"));
    writeFileSync(join(dir, "policies", "c.yaml"), policy("c", "{ labels: { kind: edgee } }"));
    writeFileSync(join(dir, "policies", "d.yaml"), policy("d", "{ names: [cloud-1] }", "membr"));
    const r = await run(["policy", "check", "--config", join(dir, "archway.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown cloud 'clodu-2' \(did you mean 'cloud-2'\?\)/);
    expect(r.err).toMatch(/no cloud has the label 'knd' \(did you mean 'kind'\?\)/);
    expect(r.err).toMatch(/no cloud has label kind=edgee \(did you mean 'edge'\?\)/);
    expect(r.err).toMatch(/role 'membr' does not exist in cloud-1 \(did you mean 'member'\?\)/);
  });

  it("an IdP client naming a cloud that does not exist", async () => {
    const file = join(dir, "idp.yaml");
    writeFileSync(
      file,
      [
        "deploymentId: hints",
        "clouds:",
        '  - { id: cloud-1, authUrl: "http://127.0.0.1:9/v3", mode: federated, admin: { username: a, password: b } }',
        "idp: { clients: [{ id: cli, secret: Zq8vR2mK5xW9pL3nT7yB4cF6hJ1dG0sA, grants: [password], clouds: [clod-1] }] }",
      ].join("\n"),
    );
    const r = await run(["config", "check", "--config", file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown cloud 'clod-1' \(did you mean 'cloud-1'\?\)/);
  });

  it("a missing config file: exit 2, saying how to give one", async () => {
    const r = await run(["sync", "plan", "--config", join(dir, "nowhere.yaml")]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /nowhere\.yaml:1:1: cannot read file \(ENOENT\): no configuration file there; give one with --config FILE or \$ARCHWAY_CONFIG/,
    );
  });
});
