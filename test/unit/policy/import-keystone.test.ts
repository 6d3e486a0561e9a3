import { describe, expect, it } from "vitest";
import { importKeystoneMapping } from "../../../src/policy/import-keystone.js";

const rule = (local: unknown[], remote: unknown[] = [{ type: "REMOTE_USER" }]) => ({ local, remote });

describe("import-keystone", () => {
  it("turns each rule into an access policy and names the username attribute", () => {
    const result = importKeystoneMapping({
      rules: [
        rule(
          [{ user: { name: "{0}" } }, { groups: "{1}", domain: { name: "fed" } }],
          [{ type: "REMOTE_USER" }, { type: "OIDC_CLAIM_groups", whitelist: ["devs"] }],
        ),
      ],
    });
    expect(result.refused).toEqual([]);
    expect(result.usernameAttribute).toBe("REMOTE_USER");
    expect(result.policies[0]?.spec.grants[0]).toMatchObject({
      groupsFromAttribute: { name: "OIDC_CLAIM_groups", whitelist: ["devs"], regex: false },
      domain: "fed",
    });
    expect(result.yaml).toMatch(/kind: AccessPolicy/);
  });

  it("accepts the API's {mapping: {rules}} shape", () => {
    expect(importKeystoneMapping({ mapping: { id: "m", rules: [rule([{ user: { name: "{0}" } }])] } }).refused).toEqual(
      [],
    );
  });

  it.each([
    ["group ids", rule([{ group: { id: "abc123" } }]), /rule 0: cannot be expressed: group ids differ in every cloud/],
    ["group_ids", rule([{ group_ids: "{0}" }]), /group ids differ in every cloud/],
    ["a templated user name", rule([{ user: { name: "fed-{0}" } }]), /user\.name 'fed-\{0\}' is not a plain \{N\}/],
    [
      "a placeholder with no remote",
      rule([{ groups: "{3}", domain: { name: "d" } }]),
      /placeholder \{3\} refers to no remote entry/,
    ],
    ["a domain by id", rule([{ group: { name: "g", domain: { id: "123" } } }]), /domain ids differ in every cloud/],
  ])("refuses %s with a clear line", (_label, r, expected) => {
    const result = importKeystoneMapping({ rules: [r] });
    expect(result.refused).toEqual([expect.stringMatching(expected)]);
    expect(result.policies).toEqual([]);
  });

  it("refuses a second rule granting projects (Keystone keeps only the last match's)", () => {
    const projects = (name: string) => rule([{ projects: [{ name, roles: [{ name: "member" }] }] }]);
    const result = importKeystoneMapping({ rules: [projects("a"), projects("b")] });
    expect(result.refused).toEqual([
      expect.stringMatching(/^rule 1: cannot be expressed: rule 0 also grants projects/),
    ]);
    expect(result.policies).toHaveLength(1);
  });

  it("refuses input that is not a mapping", () => {
    expect(importKeystoneMapping({ nope: true }).refused).toEqual([expect.stringMatching(/^not a Keystone mapping/)]);
  });
});
