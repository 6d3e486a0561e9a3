import { describe, expect, it } from "vitest";
import type { AccountListSource, AccountState } from "../../../src/identity/index.js";
import { DepartureDetector } from "../../../src/offboard/index.js";
import { MemoryStore } from "../../../src/store/index.js";

function source(id: string, list: () => AccountState[] | Error): AccountListSource {
  return {
    id,
    type: "ldap",
    ping: async () => {},
    close: async () => {},
    async *accounts() {
      const got = list();
      if (got instanceof Error) throw got;
      yield* got;
    },
  };
}

const person = (n: number, disabled = false): AccountState => ({ id: `corp:${n}`, username: `u${n}`, disabled });

describe("departure detection by diffing account listings", () => {
  it("sets a baseline first, then reports departures, disables and re-enables, stored only on commit", async () => {
    let now: AccountState[] = [person(1), person(2), person(3, true)];
    const store = new MemoryStore();
    const audit: unknown[] = [];
    const d = new DepartureDetector({
      sources: [source("corp", () => now)],
      store,
      audit: async (e) => void audit.push(e),
      maxDepartures: 10,
    });
    const first = await d.look();
    expect(first.changes).toEqual([]);
    await first.commit();

    now = [person(2, true), person(3), person(4)];
    const second = await d.look();
    expect(second.changes).toEqual([
      { person: { id: "corp:1", username: "u1" }, kind: "departed", sourceId: "corp" },
      { person: { id: "corp:2", username: "u2" }, kind: "disabled", sourceId: "corp" },
      { person: { id: "corp:3", username: "u3" }, kind: "enabled", sourceId: "corp" },
    ]);
    // Not committed: the same changes are found again (a failure while acting loses nothing).
    expect((await d.look()).changes).toHaveLength(3);
    await second.commit();
    expect((await d.look()).changes).toEqual([]);
  });

  it("ignores a listing that fails, and holds one that loses more people than the limit", async () => {
    let now: AccountState[] | Error = Array.from({ length: 20 }, (_, i) => person(i));
    const errors: string[] = [];
    const audit: { type: string }[] = [];
    const d = new DepartureDetector({
      sources: [source("corp", () => now)],
      store: new MemoryStore(),
      audit: async (e) => void audit.push(e),
      maxDepartures: 5,
      onError: (_s, m) => errors.push(m),
    });
    await (await d.look()).commit();
    now = new Error("server down");
    expect((await d.look()).changes).toEqual([]);
    now = [];
    expect((await d.look()).changes).toEqual([]);
    expect(audit.map((e) => e.type)).toEqual(["offboard.held"]);
    expect(errors.join("\n")).toMatch(/listing failed[\s\S]*20 people left/);
    now = Array.from({ length: 16 }, (_, i) => person(i));
    expect((await d.look()).changes.map((c) => c.person.id)).toEqual(["corp:16", "corp:17", "corp:18", "corp:19"]);
  });
});
