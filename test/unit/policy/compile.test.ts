import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { compilePolicies, loadPolicies } from "../../../src/policy/index.js";
import { ctx } from "./fixtures.js";

function problems(text: string) {
  return compilePolicies([{ file: "bad.yaml", text }], ctx).problems.map(
    (p) => `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`,
  );
}

const head = "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: p }\nspec:\n";

describe("policy compile errors: one clear located line each, never a crash", () => {
  it.each([
    ["wrong type", `${head}  keys: "yes"\n`, /^bad\.yaml:5:9: spec\.keys: .*expected boolean/],
    [
      "unknown key",
      `${head}  grants: [{ project: p, roles: [member], colour: red }]\n`,
      /^bad\.yaml:5:\d+: spec\.grants\[0\]: unknown key 'colour'/,
    ],
    [
      "bad regex",
      `${head}  subjects: { attributes: [{ name: dept, matches: "(" }] }\n`,
      /^bad\.yaml:5:\d+: spec\.subjects\.attributes\[0\]\.matches: invalid regular expression/,
    ],
    [
      "bad regex in a groupsFromAttribute blacklist",
      `${head}  grants: [{ groupsFromAttribute: { name: g, blacklist: ["("], regex: true } }]\n`,
      /^bad\.yaml:5:\d+: spec\.grants\[0\]\.groupsFromAttribute: invalid regular expression/,
    ],
    [
      "unknown cloud label",
      `${head}  clouds: { labels: { tier: gold } }\n`,
      /^bad\.yaml:5:\d+: spec\.clouds\.labels\.tier: no cloud has the label 'tier'/,
    ],
    [
      "unknown label value",
      `${head}  clouds: { labels: { kind: core } }\n`,
      /spec\.clouds\.labels\.kind: no cloud has label kind=core/,
    ],
    [
      "unknown cloud",
      `${head}  clouds: { names: [region-9] }\n`,
      /^bad\.yaml:5:\d+: spec\.clouds\.names\[0\]: unknown cloud 'region-9'/,
    ],
    [
      "glob matching nothing",
      `${head}  clouds: { names: ['dc-*'] }\n`,
      /spec\.clouds\.names\[0\]: 'dc-\*' matches no cloud/,
    ],
    [
      "unknown source",
      `${head}  subjects: { sources: [okta] }\n`,
      /spec\.subjects\.sources\[0\]: unknown identity source 'okta'/,
    ],
    [
      "role missing in a cloud",
      `${head}  clouds: { names: [store-0100] }\n  grants: [{ project: p, roles: [admin] }]\n`,
      /spec\.grants\[0\]\.roles\[0\]: role 'admin' does not exist in store-0100/,
    ],
    [
      "template with an unknown field",
      `${head}  grants: [{ project: "u-{{ uid }}", roles: [member] }]\n`,
      /^bad\.yaml:5:\d+: spec\.grants\[0\]\.project: unknown template field 'uid'/,
    ],
    [
      "wrong kind",
      "apiVersion: archway.dev/v1\nkind: RoleBinding\nmetadata: { name: p }\nspec: {}\n",
      /^bad\.yaml:2:7: kind: /,
    ],
  ])("%s", (_label, text, expected) => {
    const lines = problems(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
  });

  it("locates YAML syntax errors", () => {
    const lines = problems(`${head}  grants: [ { project: p\n`);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it("refuses a policy name defined twice, naming where", () => {
    const lines = problems(`${head}  keys: true\n---\n${head}  keys: false\n`);
    expect(lines).toEqual([
      expect.stringMatching(/bad\.yaml:9:\d+: metadata\.name: policy 'p' is already defined at bad\.yaml:3/),
    ]);
  });

  it("keeps the valid policies of a file with a bad one", () => {
    const result = compilePolicies(
      [
        {
          file: "x.yaml",
          text: `${head}  keys: 1\n---\napiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ok }\nspec: {}\n`,
        },
      ],
      ctx,
    );
    expect(result.problems).toHaveLength(1);
    expect(result.policies.policies.map((p) => p.name)).toEqual(["ok"]);
  });
});

describe("the example policies", () => {
  it("compile cleanly against the example config", () => {
    const loaded = loadConfig("config/archway.example.yaml");
    const { config } = loaded;
    const result = loadPolicies(loaded.policiesDir, {
      clouds: config.clouds,
      sources: config.identity.sources.map((s) => s.id),
      roles: config.roles,
    });
    expect(result.problems).toEqual([]);
    expect(result.policies.policies.map((p) => p.name)).toEqual([
      "cloud-admins-everywhere",
      "edge-store-operators",
      "edge-store-readers",
      "no-contractors-at-the-edge",
      "personal-projects",
    ]);
  });
});
