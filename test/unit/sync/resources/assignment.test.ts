import { describe, expect, it } from "vitest";
import { DOMAIN, desiredOf, kinds, observedOf, person, plan, project, shadow, usersOf } from "./fixtures.js";

const web = { name: "web", domain: DOMAIN, tags: [], create: true, policies: ["team"], description: "" };
const grant = (username: string, role = "member") => ({
  identityId: `ldap:${username}`,
  project: "web",
  projectDomain: DOMAIN,
  role,
  policies: ["team"],
});
const [observedWeb] = project(DOMAIN, "web");
const assignment = (userId: string, roleId = "r-member") => ({ userId, projectId: `p-${DOMAIN}-web`, roleId });
const roles = new Map([
  ["member", "r-member"],
  ["reader", "r-reader"],
]);

describe("role assignment planner", () => {
  it("grants on a project created in the same run, to a user created in the same run", () => {
    const p = plan(
      desiredOf({ users: [person("alice")], projects: [web], assignments: [grant("alice")] }),
      observedOf(),
    );
    expect(p.operations).toContainEqual({
      kind: "grant",
      identityId: "ldap:alice",
      username: "alice",
      project: { domain: DOMAIN, name: "web" },
      role: "member",
      policies: ["team"],
    });
  });

  it("no-op when the assignment exists", () => {
    const observed = observedOf({
      project: observedWeb,
      user: usersOf(shadow("alice")),
      assignment: { list: [assignment("u-alice")], roles },
    });
    const p = plan(desiredOf({ users: [person("alice")], projects: [web], assignments: [grant("alice")] }), observed);
    expect(p.operations).toEqual([]);
  });

  it("revokes an owned user's assignment no policy gives any more, with a readable project", () => {
    const observed = observedOf({
      project: observedWeb,
      user: usersOf(shadow("alice")),
      assignment: { list: [assignment("u-alice"), assignment("u-alice", "r-reader")], roles },
    });
    const p = plan(desiredOf({ users: [person("alice")], projects: [web], assignments: [grant("alice")] }), observed);
    expect(p.operations).toEqual([
      {
        kind: "revoke",
        identityId: "ldap:alice",
        userId: "u-alice",
        username: "alice",
        projectId: `p-${DOMAIN}-web`,
        project: `${DOMAIN}/web`,
        roleId: "r-reader",
        role: "reader",
        policies: [],
      },
    ]);
    expect(p.destructive).toBe(1);
  });

  it("revokes only assignments of Archway's own users: another user's assignment is never touched", () => {
    const observed = observedOf({
      project: observedWeb,
      user: usersOf(shadow("alice")),
      assignment: { list: [assignment("u-someone-else")], roles },
    });
    expect(plan(desiredOf({ users: [person("alice")] }), observed).operations).toEqual([]);
  });

  it("a missing role is a problem, not an operation", () => {
    const p = plan(
      desiredOf({ users: [person("alice")], projects: [web], assignments: [grant("alice", "admin")] }),
      observedOf(),
    );
    expect(kinds(p)).toEqual(["createProject", "createUser"]);
    expect(p.problems).toEqual(["role admin does not exist in this cloud"]);
  });

  it("no grant on a project that neither exists nor is created", () => {
    const p = plan(
      desiredOf({ users: [person("alice")], projects: [{ ...web, create: false }], assignments: [grant("alice")] }),
      observedOf(),
    );
    expect(kinds(p)).toEqual(["createUser"]);
  });

  it("grants on a project Archway does not own, without changing it", () => {
    const [handmade] = project("Default", "ops", { owned: false, tags: [] });
    const ops = { ...web, name: "ops", domain: "Default", create: false };
    const p = plan(
      desiredOf({
        users: [person("alice")],
        projects: [ops],
        assignments: [{ ...grant("alice"), project: "ops", projectDomain: "Default" }],
      }),
      observedOf({ project: handmade }),
    );
    expect(kinds(p)).toEqual(["createUser", "grant"]);
  });

  it("a just-in-time run revokes only its people's assignments", () => {
    const observed = observedOf({
      project: observedWeb,
      user: usersOf(shadow("alice"), shadow("bob")),
      assignment: { list: [assignment("u-alice"), assignment("u-bob")], roles },
    });
    const p = plan(desiredOf({ users: [person("alice"), person("bob")], projects: [web] }), observed, {
      people: new Set(["ldap:alice"]),
    });
    expect(p.operations).toEqual([expect.objectContaining({ kind: "revoke", username: "alice" })]);
  });
});
