import { describe, expect, it } from "vitest";
import { DEPLOYMENT_ATTR, IDENTITY_ATTR, ownedUser, USER_MARK } from "../../../../src/sync/index.js";
import { DOMAIN, desiredOf, kinds, NOW, OWN, observedOf, person, plan, shadow, usersOf } from "./fixtures.js";

const alice = person("alice", { displayName: "Alice" });
const hourAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

describe("user planner", () => {
  it("creates a shadow user for a desired person", () => {
    const p = plan(desiredOf({ users: [alice] }), observedOf());
    expect(p.operations).toEqual([
      {
        kind: "createUser",
        identityId: "ldap:alice",
        username: "alice",
        email: "alice@example.org",
        displayName: "Alice",
        policies: [],
      },
    ]);
  });

  it("no-op when the owned user matches", () => {
    const p = plan(
      desiredOf({ users: [alice] }),
      observedOf({ user: usersOf(shadow("alice", { description: "Alice" })) }),
    );
    expect(p.operations).toEqual([]);
  });

  it("updates rename, contact, re-enable, password key version and user options", () => {
    const seen = shadow("old-name", {
      [IDENTITY_ATTR]: "ldap:alice",
      email: "old@example.org",
      enabled: false,
      archway_key_version: 0,
      options: {},
    });
    const p = plan(desiredOf({ users: [alice] }), observedOf({ user: usersOf(seen) }));
    expect(p.operations).toEqual([
      expect.objectContaining({
        kind: "updateUser",
        userId: "u-old-name",
        changes: {
          name: "alice",
          email: "alice@example.org",
          description: "Alice",
          enable: true,
          password: { from: 0, to: 1 },
          options: true,
        },
      }),
    ]);
  });

  it("a user in Archway's domain without the mark is never adopted: a problem, and no grants for it", () => {
    const observed = observedOf({
      user: { byIdentity: new Map(), foreignNames: new Map([["alice", "without Archway's mark"]]) },
    });
    const desired = desiredOf({
      users: [alice],
      assignments: [
        { identityId: "ldap:alice", project: "web", projectDomain: DOMAIN, role: "member", policies: ["p"] },
      ],
    });
    const p = plan(desired, observed);
    expect(p.operations).toEqual([]);
    expect(p.problems).toEqual([`user alice exists in domain ${DOMAIN} without Archway's mark: not adopted`]);
  });

  it("ownership: unmarked users, users of other domains and users without an identity are not Archway's", () => {
    const base = { id: "u1", name: "x", enabled: true, options: {}, [IDENTITY_ATTR]: "ldap:x" };
    expect(
      ownedUser({ ...base, domain_id: "d1", [USER_MARK]: true, [DEPLOYMENT_ATTR]: "t" }, "d1", OWN),
    ).not.toBeNull();
    expect(ownedUser({ ...base, domain_id: "d1" }, "d1", OWN)).toBeNull();
    expect(ownedUser({ ...base, domain_id: "other", [USER_MARK]: true, [DEPLOYMENT_ATTR]: "t" }, "d1", OWN)).toBeNull();
    expect(
      ownedUser(
        { ...base, domain_id: "d1", [USER_MARK]: true, [DEPLOYMENT_ATTR]: "t", [IDENTITY_ATTR]: "" },
        "d1",
        OWN,
      ),
    ).toBeNull();
  });

  it("disables an owned user nobody asks for any more (disable before delete)", () => {
    const p = plan(desiredOf(), observedOf({ user: usersOf(shadow("bob")) }));
    expect(p.operations).toEqual([
      { kind: "disableUser", identityId: "ldap:bob", userId: "u-bob", username: "bob", policies: [] },
    ]);
    expect(p.destructive).toBe(1);
    expect(p.counts.disable).toBe(1);
  });

  it("a disabled user stays until the grace period is over, then is deleted with its recorded keypairs", () => {
    const disabled = (h: number) =>
      shadow("bob", {
        enabled: false,
        archway_disabled_at: hourAgo(h),
        archway_keys: { work: "SHA256:x", home: "SHA256:y" },
      });
    expect(plan(desiredOf(), observedOf({ user: usersOf(disabled(0.5)) })).operations).toEqual([]);
    const p = plan(desiredOf(), observedOf({ user: usersOf(disabled(2)) }));
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "deleteUser", userId: "u-bob", keyNames: ["home", "work"] }),
    ]);
    expect(p.counts.delete).toBe(1);
  });

  it("a user disabled by hand (no disabled-at mark) is disabled by Archway first, never deleted at once", () => {
    const p = plan(desiredOf(), observedOf({ user: usersOf(shadow("bob", { enabled: false })) }));
    expect(kinds(p)).toEqual(["disableUser"]);
  });

  it("a just-in-time run touches only its people", () => {
    const observed = observedOf({ user: usersOf(shadow("bob"), shadow("carol", { enabled: false })) });
    const p = plan(desiredOf({ users: [alice, person("carol")] }), observed, { people: new Set(["ldap:alice"]) });
    expect(kinds(p)).toEqual(["createUser"]);
  });

  it("the policies of a user are every policy giving them something, sorted", () => {
    const desired = desiredOf({
      users: [alice],
      keys: [{ identityId: "ldap:alice", publicKey: "x", policies: ["keys"] }],
      memberships: [{ identityId: "ldap:alice", group: "g", domain: DOMAIN, policies: ["b-groups"] }],
    });
    const op = plan(desired, observedOf()).operations.find((o) => o.kind === "createUser");
    expect(op?.policies).toEqual(["b-groups", "keys"]);
  });
});
