import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { compilePolicies, desiredState, evaluate } from "../../../src/policy/index.js";
import { allow, person } from "./fixtures.js";

const roles = ["member", "y", "x/y", ...Array.from({ length: 20 }, (_, i) => `r${String(i).padStart(2, "0")}`)];
const clouds = [
  CloudSchema.parse({ id: "c1", authUrl: "http://127.0.0.1:5000/v3", admin: { username: "a", password: "b" } }),
];

function compile(...docs: string[]) {
  const { policies, problems } = compilePolicies([{ file: "t.yaml", text: docs.join("---\n") }], {
    clouds,
    sources: ["corp"],
    roles,
  });
  expect(problems).toEqual([]);
  return policies;
}

describe("result entries are identified by their fields, never by a joined key", () => {
  it("keeps a group 'c' of domain 'a/b' apart from a group 'b/c' of domain 'a'", () => {
    const set = compile(
      allow("p1", `  grants: [{ domain: "a/b", groups: [c] }]`),
      allow("p2", `  grants: [{ domain: a, groups: ["b/c"] }]`),
    );
    const access = evaluate(person(), set).get("c1");
    // Both join to "a/b/c", the key that used to merge them; the shorter domain sorts first.
    expect(access?.memberships).toEqual([
      { identityId: "corp:alice", domain: "a", group: "b/c", policies: ["p2"] },
      { identityId: "corp:alice", domain: "a/b", group: "c", policies: ["p1"] },
    ]);
    const state = desiredState([person()], set).get("c1");
    expect(state?.memberships.map((m) => [m.domain, m.group])).toEqual([
      ["a", "b/c"],
      ["a/b", "c"],
    ]);
    expect(state?.users[0]?.groups).toEqual(["b/c", "c"]);
  });

  it("keeps role 'y' on project 'a/p'/'x' apart from role 'x/y' on project 'a'/'p'", () => {
    const set = compile(
      allow("q1", `  grants: [{ domain: "a/p", project: x, roles: [y] }]`),
      allow("q2", `  grants: [{ domain: a, project: p, roles: ["x/y"] }]`),
    );
    const access = evaluate(person(), set).get("c1");
    expect(access?.assignments.map((a) => [a.projectDomain, a.project, a.role, a.policies])).toEqual([
      ["a", "p", "x/y", ["q2"]],
      ["a/p", "x", "y", ["q1"]],
    ]);
    expect(access?.projects.map((p) => [p.domain, p.name])).toEqual([
      ["a", "p"],
      ["a/p", "x"],
    ]);
    const state = desiredState([person(), person({ username: "bob" })], set).get("c1");
    expect(state?.projects.map((p) => [p.domain, p.name, p.policies])).toEqual([
      ["a", "p", ["q2"]],
      ["a/p", "x", ["q1"]],
    ]);
  });

  it("merges one project that several people bring: tags and policies united and sorted, the smallest description", () => {
    const set = compile(
      allow(
        "t1",
        `  subjects: { usernames: [alice, bob] }\n  grants: [{ project: p, roles: [member], tags: [zeta, alpha] }]`,
      ),
      allow(
        "t2",
        `  subjects: { usernames: [bob] }\n  grants: [{ project: p, roles: [y], tags: [mid], description: "{{ username }}'s" }]`,
      ),
      allow(
        "t0",
        `  subjects: { usernames: [carol] }\n  grants: [{ project: p, roles: [y], description: "{{ username }}'s" }]`,
      ),
    );
    const people = ["alice", "bob", "carol", "dave"].map((username) => person({ username }));
    const project = desiredState(people, set).get("c1")?.projects;
    expect(project).toEqual([
      {
        name: "p",
        domain: "archway",
        tags: ["alpha", "mid", "zeta"],
        create: true,
        policies: ["t0", "t1", "t2"],
        description: "bob's",
      },
    ]);
    // The people's own results are untouched by the merge.
    expect(evaluate(people[0]!, set).get("c1")?.projects[0]?.policies).toEqual(["t1"]);
    expect(evaluate(people[0]!, set).get("c1")?.projects[0]?.tags).toEqual(["alpha", "zeta"]);
  });

  it("merges and orders many entries as it does a few (past the scan, entries are indexed)", () => {
    const values = Array.from({ length: 40 }, (_, i) => `g-${(i * 7) % 40}`);
    const who = person({ attributes: { memberOf: [...values, "g-3", "g/1", "g.1", "g"] } });
    const set = compile(
      allow("a", `  grants: [{ groupsFromAttribute: { name: memberOf } }]`),
      allow("b", `  grants: [{ groups: [g-3, g-39, h], groupsFromAttribute: { name: memberOf, blacklist: [g-5] } }]`),
      allow("c", `  grants: [{ project: p, roles: [${roles.join(", ")}] }]`),
      allow("d", `  grants: [{ project: p, roles: [r00, r19, member] }]`),
      "apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: z }\nspec:\n  roles: [r01, r02, y]\n",
    );
    const access = evaluate(who, set).get("c1");
    // The reference: every distinct group once, its policies in name order, sorted by "domain/group".
    const groups = [...new Set([...who.attributes.memberOf!, "h"])];
    const expected = groups
      .map((group) => ({
        identityId: "corp:alice",
        domain: "archway",
        group,
        policies: [...(who.attributes.memberOf!.includes(group) ? ["a"] : []), ...(group !== "g-5" ? ["b"] : [])],
      }))
      .sort((x, y) => (`archway/${x.group}` < `archway/${y.group}` ? -1 : 1));
    expect(access?.memberships).toEqual(expected);
    const kept = roles.filter((r) => !["r01", "r02", "y"].includes(r)).sort();
    expect(access?.assignments.map((a) => a.role)).toEqual(kept);
    expect(access?.assignments.find((a) => a.role === "r19")?.policies).toEqual(["c", "d"]);
  });

  it("shares one frozen array for every empty list: results are read-only", () => {
    const access = evaluate(person(), compile(allow("p", `  grants: [{ groups: [g] }]`))).get("c1");
    expect(access?.keys).toEqual([]);
    expect(Object.isFrozen(access?.keys)).toBe(true);
    expect(access?.projects).toBe(access?.assignments);
  });
});
