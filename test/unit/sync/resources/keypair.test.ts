import { describe, expect, it } from "vitest";
import { parsePublicKey } from "../../../../src/sync/index.js";
import { desiredOf, kinds, observedOf, person, plan, shadow, usersOf } from "./fixtures.js";

const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvNAk1sYEh2bJ8o0w2Pkf2W9TdVRWdnS16T5ZAiWDMO laptop",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFQwTA6nkv0QS+9uXaB3nKIRR++kEqSEN//t3v7NQvTB laptop",
];
const fp = (k: string) => parsePublicKey(k)?.fingerprint ?? "";
const alice = person("alice");
const wantKey = (k: string) =>
  desiredOf({ users: [alice], keys: [{ identityId: "ldap:alice", publicKey: k, policies: ["keys"] }] });
const nova = (...pairs: [string, string][]) =>
  new Map([["u-alice", pairs.map(([name, public_key]) => ({ name, public_key }))]]);

describe("keypair planner", () => {
  it("imports a new person's key and records it", () => {
    const p = plan(wantKey(KEYS[0]!), observedOf());
    expect(kinds(p)).toEqual(["createUser", "importKey", "recordKeys"]);
    expect(p.operations[1]).toMatchObject({
      name: "laptop",
      replace: false,
      fingerprint: fp(KEYS[0]!),
      policies: ["keys"],
    });
    expect(p.operations[2]).toMatchObject({ keys: { laptop: fp(KEYS[0]!) } });
  });

  it("no-op when the record matches the desired keys (Nova not even read)", () => {
    const observed = observedOf({ user: usersOf(shadow("alice", { archway_keys: { laptop: fp(KEYS[0]!) } })) });
    expect(plan(wantKey(KEYS[0]!), observed).operations).toEqual([]);
  });

  it("replaces Archway's own key when the key under its name changed (destructive)", () => {
    const observed = observedOf({
      user: usersOf(shadow("alice", { archway_keys: { laptop: fp(KEYS[0]!) } })),
      keypair: nova(["laptop", KEYS[0]!]),
    });
    const p = plan(wantKey(KEYS[1]!), observed);
    expect(p.operations).toEqual([
      expect.objectContaining({ kind: "importKey", name: "laptop", replace: true }),
      expect.objectContaining({ kind: "recordKeys", keys: { laptop: fp(KEYS[1]!) } }),
    ]);
    expect(p.destructive).toBe(1);
    expect(p.counts.update).toBe(2);
  });

  it("never replaces a keypair Archway did not put there: a problem", () => {
    const observed = observedOf({ user: usersOf(shadow("alice")), keypair: nova(["laptop", KEYS[0]!]) });
    const p = plan(wantKey(KEYS[1]!), observed);
    expect(kinds(p)).toEqual([]);
    expect(p.problems).toEqual(["keypair 'laptop' of alice exists with another key, not Archway's: not replaced"]);
  });

  it("deletes Archway's keypair nobody wants any more, and only that one", () => {
    const observed = observedOf({
      user: usersOf(shadow("alice", { archway_keys: { laptop: fp(KEYS[0]!) } })),
      keypair: nova(["laptop", KEYS[0]!], ["mine", KEYS[1]!]),
    });
    const p = plan(desiredOf({ users: [alice] }), observed);
    expect(p.operations).toEqual([
      {
        kind: "deleteKey",
        identityId: "ldap:alice",
        username: "alice",
        userId: "u-alice",
        name: "laptop",
        policies: [],
      },
      { kind: "recordKeys", identityId: "ldap:alice", username: "alice", keys: {}, policies: [] },
    ]);
    expect(p.counts.delete).toBe(1);
  });

  it("adopts a matching keypair already in Nova into the record without importing it", () => {
    const observed = observedOf({ user: usersOf(shadow("alice")), keypair: nova(["laptop", KEYS[0]!]) });
    expect(kinds(plan(wantKey(KEYS[0]!), observed))).toEqual(["recordKeys"]);
  });

  it("a line that is not an OpenSSH public key is a problem", () => {
    const p = plan(wantKey("not a key"), observedOf({ user: usersOf(shadow("alice")) }));
    expect(p.problems).toEqual(["an SSH key of alice is not an OpenSSH public key: skipped"]);
  });

  it("people who lost all access keep their keys until their user is deleted (and the delete takes them)", () => {
    const observed = observedOf({ user: usersOf(shadow("alice", { archway_keys: { laptop: fp(KEYS[0]!) } })) });
    expect(kinds(plan(desiredOf(), observed))).toEqual(["disableUser"]);
  });
});
