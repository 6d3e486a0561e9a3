import { describe, expect, it } from "vitest";
import { DOMAIN, desiredOf, kinds, observedOf, person, plan, shadow, usersOf } from "./fixtures.js";

const member = (username: string, group: string) => ({
  identityId: `ldap:${username}`,
  group,
  domain: DOMAIN,
  policies: ["groups"],
});
const people = [person("alice"), person("bob")];

describe("group planner", () => {
  it("creates each missing group once, before members are added", () => {
    const p = plan(
      desiredOf({ users: people, memberships: [member("alice", "ops"), member("bob", "ops")] }),
      observedOf(),
    );
    expect(kinds(p)).toEqual(["createUser", "createUser", "createGroup", "addMember", "addMember"]);
    expect(p.operations[2]).toEqual({ kind: "createGroup", name: "ops", policies: ["groups"] });
  });

  it("no group for memberships of people who cannot have a user (name held by a user Archway does not own)", () => {
    const observed = observedOf({
      user: { byIdentity: new Map(), foreignNames: new Map([["alice", "without Archway's mark"]]) },
    });
    const p = plan(desiredOf({ users: [person("alice")], memberships: [member("alice", "ops")] }), observed);
    expect(kinds(p)).toEqual([]);
  });

  it("owned groups no policy names any more are deleted (see group.test.ts for every rule)", () => {
    const observed = observedOf({ group: new Map([["old", { id: "g-old", members: new Set() }]]) });
    expect(plan(desiredOf(), observed).operations).toEqual([
      { kind: "deleteGroup", name: "old", groupId: "g-old", policies: [] },
    ]);
  });
});

describe("group membership planner", () => {
  const ops = (...members: string[]) => new Map([["ops", { id: "g-ops", members: new Set(members) }]]);

  it("no-op when the member is in the group", () => {
    const observed = observedOf({ user: usersOf(shadow("alice")), group: ops("u-alice") });
    expect(
      plan(desiredOf({ users: [person("alice")], memberships: [member("alice", "ops")] }), observed).operations,
    ).toEqual([]);
  });

  it("adds a missing member", () => {
    const observed = observedOf({ user: usersOf(shadow("alice")), group: ops() });
    const p = plan(desiredOf({ users: [person("alice")], memberships: [member("alice", "ops")] }), observed);
    expect(p.operations).toEqual([
      { kind: "addMember", group: "ops", identityId: "ldap:alice", username: "alice", policies: ["groups"] },
    ]);
  });

  it("removes Archway's own users no policy keeps there; a member added by hand stays", () => {
    const observed = observedOf({ user: usersOf(shadow("alice")), group: ops("u-alice", "u-by-hand") });
    const p = plan(desiredOf({ users: [person("alice")] }), observed);
    expect(p.operations).toEqual([
      { kind: "removeMember", group: "ops", groupId: "g-ops", userId: "u-alice", username: "alice", policies: [] },
    ]);
    expect(p.counts.revoke).toBe(1);
  });

  it("a just-in-time run removes only its people", () => {
    const observed = observedOf({ user: usersOf(shadow("alice"), shadow("bob")), group: ops("u-alice", "u-bob") });
    const p = plan(desiredOf({ users: people }), observed, { people: new Set(["ldap:bob"]) });
    expect(p.operations).toEqual([expect.objectContaining({ kind: "removeMember", username: "bob" })]);
  });

  it("group names and user ids never run together into one key", () => {
    // Joined with "|", alice (id "c") in group "a|b" and bob (id "b|c") in group "a" are both "a|b|c".
    const observed = observedOf({
      user: usersOf(shadow("alice", { id: "c" }), shadow("bob", { id: "b|c" })),
      group: new Map([["a", { id: "g-a", members: new Set(["b|c"]) }]]),
    });
    const p = plan(desiredOf({ users: people, memberships: [member("alice", "a|b")] }), observed);
    expect(p.operations).toContainEqual(expect.objectContaining({ kind: "removeMember", group: "a", username: "bob" }));
  });
});
