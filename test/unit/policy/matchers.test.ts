import { describe, expect, it } from "vitest";
import { evaluate } from "../../../src/policy/index.js";
import { allow, compileOk, person } from "./fixtures.js";

const grant = `  grants: [{ project: p, roles: [member] }]`;

/** Clouds the person gets anything in under a single policy with these subjects/clouds. */
function cloudsFor(subjectsAndClouds: string, who = person()): string[] {
  return [...evaluate(who, compileOk(allow("t", `${subjectsAndClouds}\n${grant}`))).keys()];
}

const all = ["region-1", "region-2", "store-0001", "store-0002", "store-0100"];

describe("subject matchers", () => {
  const alice = person({
    username: "alice",
    groups: ["devs", "ops"],
    groupDns: ["cn=devs,ou=groups,dc=example,dc=org"],
    attributes: { department: ["engineering"], tier: ["gold", "platinum"] },
  });
  it.each([
    ["empty subject matches everyone", "  subjects: {}", true],
    ["sources: listed", "  subjects: { sources: [corp] }", true],
    ["sources: not listed", "  subjects: { sources: [sso] }", false],
    ["usernames: listed", "  subjects: { usernames: [bob, alice] }", true],
    ["usernames: not listed", "  subjects: { usernames: [bob] }", false],
    ["groups.anyOf: one present", "  subjects: { groups: { anyOf: [admins, ops] } }", true],
    ["groups.anyOf: none present", "  subjects: { groups: { anyOf: [admins] } }", false],
    [
      "groups.anyOf: by DN, any case",
      "  subjects: { groups: { anyOf: ['CN=devs,ou=groups,dc=example,dc=org'] } }",
      true,
    ],
    ["groups.allOf: all present", "  subjects: { groups: { allOf: [devs, ops] } }", true],
    ["groups.allOf: one missing", "  subjects: { groups: { allOf: [devs, admins] } }", false],
    ["groups.noneOf: none present", "  subjects: { groups: { noneOf: [contractors] } }", true],
    ["groups.noneOf: one present", "  subjects: { groups: { noneOf: [contractors, ops] } }", false],
    ["attribute equals", "  subjects: { attributes: [{ name: department, equals: engineering }] }", true],
    ["attribute equals, other value", "  subjects: { attributes: [{ name: department, equals: sales }] }", false],
    ["attribute in list (multi-valued)", "  subjects: { attributes: [{ name: tier, in: [silver, platinum] }] }", true],
    ["attribute in list, no overlap", "  subjects: { attributes: [{ name: tier, in: [silver] }] }", false],
    ["attribute regex", "  subjects: { attributes: [{ name: department, matches: '^eng' }] }", true],
    ["attribute regex, no match", "  subjects: { attributes: [{ name: department, matches: '^sales$' }] }", false],
    ["attribute missing", "  subjects: { attributes: [{ name: cost-centre, matches: '' }] }", false],
    ["attribute negated", "  subjects: { attributes: [{ name: tier, in: [bronze], not: true }] }", true],
    ["attribute negated, hit", "  subjects: { attributes: [{ name: tier, in: [gold], not: true }] }", false],
    ["virtual attribute email", "  subjects: { attributes: [{ name: email, matches: '@example\\.org$' }] }", true],
  ])("%s", (_label, subjects, expected) => {
    expect(cloudsFor(subjects, alice).length > 0).toBe(expected);
  });
});

describe("cloud selectors", () => {
  it.each([
    ["no selector: every cloud", "  clouds: {}", all],
    ["names: exact", "  clouds: { names: [region-2] }", ["region-2"]],
    ["names: glob", "  clouds: { names: ['store-000?'] }", ["store-0001", "store-0002"]],
    ["names: star", "  clouds: { names: ['store-*'] }", ["store-0001", "store-0002", "store-0100"]],
    ["labels: one", "  clouds: { labels: { kind: region } }", ["region-1", "region-2"]],
    ["labels: all must match", "  clouds: { labels: { kind: edge, country: de } }", ["store-0001", "store-0002"]],
    ["labels: value list", "  clouds: { labels: { country: [fr] } }", ["region-2", "store-0100"]],
    ["labels: value glob", "  clouds: { labels: { kind: 'e*' } }", ["store-0001", "store-0002", "store-0100"]],
    ["exclude", "  clouds: { names: ['*'], exclude: ['store-*'] }", ["region-1", "region-2"]],
  ])("%s", (_label, selector, expected) => {
    expect(cloudsFor(`  subjects: {}\n${selector}`)).toEqual(expected);
  });
});

describe("grants", () => {
  it("renders project templates into Keystone's name rules and limits", () => {
    const set = compileOk(
      allow(
        "t",
        `  clouds: { names: [region-1] }
  grants:
    - { project: "u-{{ username }}", roles: [member], description: "For {{ displayName }} in {{ cloud }}" }
    - { project: "{{ attributes.team }} / {{ email }}", roles: [reader] }
    - { project: "x{{ attributes.long }}", roles: [reader] }`,
      ),
    );
    const who = person({
      username: "jürgen müller",
      displayName: "Jürgen",
      attributes: { team: ["Ops (Berlin)"], long: ["y".repeat(100)] },
    });
    const access = evaluate(who, set).get("region-1")!;
    const names = access.projects.map((p) => p.name);
    expect(names).toContain("u-jürgen-müller");
    expect(names).toContain("Ops-Berlin-jürgen-müller@example.org");
    const long = names.find((n) => n.startsWith("xy"))!;
    expect(long.length).toBe(64);
    expect(long).toMatch(/-[0-9a-f]{8}$/);
    expect(access.projects.find((p) => p.name.startsWith("u-"))?.description).toBe("For Jürgen in region-1");
  });

  it("grants nothing for a template that renders empty", () => {
    const set = compileOk(allow("t", `  grants: [{ project: "{{ attributes.missing }}", roles: [member] }]`));
    expect(evaluate(person(), set).size).toBe(0);
  });

  it("imports SSH keys only where a matching policy says keys: true", () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBj alice@laptop";
    const set = compileOk(
      allow("a-keys", `  clouds: { names: [region-1] }\n  grants: [{ project: p, roles: [member] }]\n  keys: true`) +
        "---\n" +
        allow("b-nokeys", `  clouds: { names: [region-2] }\n  grants: [{ project: p, roles: [member] }]`),
    );
    const access = evaluate(person({ sshKeys: [key] }), set);
    expect(access.get("region-1")?.keys).toEqual([{ identityId: "corp:alice", publicKey: key, policies: ["a-keys"] }]);
    expect(access.get("region-2")?.keys).toEqual([]);
  });
});
