import { describe, expect, it } from "vitest";
import {
  compilePolicies,
  desiredState,
  evaluate,
  explain,
  formatExplanation,
  WITH_MFA,
} from "../../../src/policy/index.js";
import { allow, compileOk, ctx, person } from "./fixtures.js";

/** "A project per LDAP group": one policy. */
const TEAMS = allow(
  "teams",
  `  forEach: { group: "team-*" }
  clouds: { names: [region-1] }
  grants:
    - project: "{{ group }}"
      description: "project of {{ group }}"
      tags: [team, "dir-{{ group }}"]
      roles: [member]
      groups: ["{{ group }}-all"]`,
);

function problems(text: string): string[] {
  return compilePolicies([{ file: "p.yaml", text }], ctx).problems.map((p) => `${p.path}: ${p.message}`);
}

describe("spec.forEach: one grant set per matching directory group", () => {
  it("gives each matching group its project, with {{ group }} in every template", () => {
    const set = compileOk(TEAMS);
    const alice = person({ username: "alice", groups: ["team-a", "staff", "team-b"] });
    const access = evaluate(alice, set).get("region-1");
    expect(access?.projects).toEqual([
      {
        name: "team-a",
        domain: "archway",
        description: "project of team-a",
        tags: ["dir-team-a", "team"],
        create: true,
        policies: ["teams"],
      },
      {
        name: "team-b",
        domain: "archway",
        description: "project of team-b",
        tags: ["dir-team-b", "team"],
        create: true,
        policies: ["teams"],
      },
    ]);
    expect(access?.assignments.map((x) => `${x.project}:${x.role}`)).toEqual(["team-a:member", "team-b:member"]);
    expect(access?.memberships.map((m) => m.group)).toEqual(["team-a-all", "team-b-all"]);
  });

  it("explain lists the groups each grant set is for", () => {
    const set = compileOk(TEAMS);
    const e = explain(person({ groups: ["team-a", "staff"] }), set);
    expect(e.policies[0]).toMatchObject({ name: "teams", matched: true, forEachGroups: ["team-a"] });
    expect(formatExplanation(e)).toContain("for each group: team-a");
    expect(formatExplanation(explain(person(), set))).toContain("for each group: none matches");
  });

  it("grants nothing to a person in no matching group (and the glob matching no group is no error)", () => {
    const set = compileOk(TEAMS);
    expect(evaluate(person({ groups: ["staff"] }), set).size).toBe(0);
  });

  it("two people with different teams get different projects, whatever the plan cache holds", () => {
    // Both match exactly the same policies: one cached match plan serves both; the result must still differ.
    const set = compileOk(TEAMS);
    const a = person({ username: "a", groups: ["team-a"] });
    const b = person({ username: "b", groups: ["team-b"] });
    const names = (p: typeof a) =>
      evaluate(p, set)
        .get("region-1")
        ?.projects.map((x) => x.name);
    expect(names(a)).toEqual(["team-a"]);
    expect(set.plans.size).toBe(1);
    expect(names(b)).toEqual(["team-b"]);
    expect(names(a)).toEqual(["team-a"]);
    expect(set.plans.size).toBe(1);
    // And across clouds in the desired state (clouds share one result per person, never across people).
    const state = desiredState([a, b], set).get("region-1");
    expect(state?.projects.map((p) => p.name)).toEqual(["team-a", "team-b"]);
  });

  it("works beside indexed policies and in sets too large for bit masks", () => {
    const many = Array.from({ length: 40 }, (_, i) =>
      allow(
        `p${String(i).padStart(2, "0")}`,
        `  subjects: { groups: { anyOf: [g${i}] } }\n  grants: [{ project: x${i} }]`,
      ),
    );
    const { policies, problems: found } = compilePolicies(
      [{ file: "x.yaml", text: [TEAMS, ...many].join("---\n") }],
      ctx,
    );
    expect(found).toEqual([]);
    const a = person({ username: "a", groups: ["team-a", "g3"] });
    const b = person({ username: "b", groups: ["team-b", "g3"] });
    expect(
      evaluate(a, policies)
        .get("region-1")
        ?.projects.map((p) => p.name),
    ).toEqual(["team-a", "x3"]);
    expect(
      evaluate(b, policies)
        .get("region-1")
        ?.projects.map((p) => p.name),
    ).toEqual(["team-b", "x3"]);
  });
});

describe("assignTo: group", () => {
  const GROUPED = allow(
    "teams",
    `  forEach: { group: "team-*" }
  clouds: { names: [region-1, store-0001] }
  grants:
    - project: "t-{{ group }}"
      roles: [member, reader]
      assignTo: group`,
  );

  it("puts the person in a Keystone group named after the directory group, which holds the roles", () => {
    const access = evaluate(person({ groups: ["team-a"] }), compileOk(GROUPED)).get("region-1");
    expect(access?.memberships).toEqual([
      { identityId: "corp:alice", group: "team-a", domain: "archway", policies: ["teams"] },
    ]);
    expect(access?.assignments).toEqual([
      {
        identityId: "corp:alice",
        project: "t-team-a",
        projectDomain: "archway",
        role: "member",
        policies: ["teams"],
        group: "team-a",
      },
      {
        identityId: "corp:alice",
        project: "t-team-a",
        projectDomain: "archway",
        role: "reader",
        policies: ["teams"],
        group: "team-a",
      },
    ]);
  });

  it("takes the group's name from keystoneGroup, a template", () => {
    const set = compileOk(
      allow("ops", `  grants: [{ project: ops, roles: [member], assignTo: group, keystoneGroup: "ops-{{ source }}" }]`),
    );
    const access = evaluate(person(), set).get("region-1");
    expect(access?.memberships.map((m) => m.group)).toEqual(["ops-corp"]);
    expect(access?.assignments.map((x) => x.group)).toEqual(["ops-corp"]);
  });

  it("the desired state holds one group grant per group, project and role, not one per member", () => {
    const set = compileOk(GROUPED);
    const people = ["a", "b", "c"].map((u) => person({ username: u, groups: ["team-x"] }));
    const state = desiredState(people, set).get("region-1");
    expect(state?.assignments).toEqual([]);
    expect(state?.groupGrants).toEqual([
      { group: "team-x", project: "t-team-x", projectDomain: "archway", role: "member", policies: ["teams"] },
      { group: "team-x", project: "t-team-x", projectDomain: "archway", role: "reader", policies: ["teams"] },
    ]);
    expect(state?.memberships.map((m) => `${m.identityId}:${m.group}`)).toEqual([
      "corp:a:team-x",
      "corp:b:team-x",
      "corp:c:team-x",
    ]);
    expect(state?.users.map((u) => u.groups)).toEqual([["team-x"], ["team-x"], ["team-x"]]);
  });

  it("a role held both directly and through a group is two entries; a deny takes the person out of the group", () => {
    const direct = allow(
      "direct",
      `  clouds: { names: [region-1] }\n  grants: [{ project: t-team-a, roles: [member] }]`,
    );
    const deny = `apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: no-team-a }\nspec:\n  projects: [t-team-a]\n  roles: [reader]\n`;
    const both = evaluate(person({ groups: ["team-a"] }), compileOk([GROUPED, direct].join("---\n")), WITH_MFA);
    expect(both.get("region-1")?.assignments.map((x) => `${x.role}:${x.group ?? "-"}`)).toEqual([
      "member:-",
      "member:team-a",
      "reader:team-a",
    ]);
    const denied = evaluate(person({ groups: ["team-a"] }), compileOk([GROUPED, direct, deny].join("---\n")));
    expect(denied.get("region-1")?.assignments.map((x) => `${x.role}:${x.group ?? "-"}`)).toEqual(["member:-"]);
    expect(denied.get("region-1")?.memberships).toEqual([]);
  });
});

describe("compile checks", () => {
  it("refuses {{ group }} without forEach, naming the field", () => {
    expect(problems(allow("p", `  grants: [{ project: "{{ group }}", roles: [member] }]`))).toEqual([
      expect.stringMatching(/^spec\.grants\[0\]\.project: '\{\{ group \}\}' is the directory group of spec\.forEach/),
    ]);
    expect(problems(allow("p", `  grants: [{ project: p, tags: ["t-{{ group }}"] }]`))).toEqual([
      expect.stringMatching(/^spec\.grants\[0\]\.tags\[0\]: '\{\{ group \}\}'/),
    ]);
    expect(problems(allow("p", `  grants: [{ groups: ["{{ group }}"] }]`))).toEqual([
      expect.stringMatching(/^spec\.grants\[0\]\.groups\[0\]: '\{\{ group \}\}'/),
    ]);
  });

  it("refuses assignTo: group without a group name or a project, and keystoneGroup without assignTo", () => {
    expect(problems(allow("p", `  grants: [{ project: p, roles: [member], assignTo: group }]`))).toEqual([
      expect.stringMatching(/^spec\.grants\[0\]\.assignTo: assignTo: group needs keystoneGroup/),
    ]);
    expect(problems(allow("p", `  grants: [{ groups: [g], assignTo: group, keystoneGroup: k }]`))).toEqual([
      expect.stringMatching(/assignTo: .*a project is needed/),
    ]);
    expect(problems(allow("p", `  grants: [{ project: p, keystoneGroup: k }]`))).toEqual([
      expect.stringMatching(/keystoneGroup: .*needs assignTo: group/),
    ]);
  });

  it("refuses assignTo: group under requires.mfa in brokered clouds", () => {
    const text = allow(
      "p",
      `  requires: { mfa: true }\n  grants: [{ project: p, roles: [member], assignTo: group, keystoneGroup: k }]`,
    );
    expect(problems(text)).toEqual([expect.stringMatching(/^spec\.grants\[0\]\.assignTo: a grant that requires mfa/)]);
  });

  it("accepts forEach whose glob matches no group of anyone, and names the cloud in usesCloud", () => {
    const set = compileOk(
      allow("p", `  forEach: { group: "nobody-*" }\n  grants: [{ project: "{{ group }}-{{ cloud }}" }]`),
    );
    expect(set.policies[0]?.usesCloud).toBe(true);
    expect(set.policies[0]?.forEachGlob).toBe("nobody-*");
  });
});
