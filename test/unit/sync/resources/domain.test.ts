import { describe, expect, it } from "vitest";
import { DOMAIN, desiredOf, observedOf, plan } from "./fixtures.js";

describe("domain planner", () => {
  it("creates Archway's domain when it is missing, first", () => {
    const p = plan(desiredOf(), observedOf({ domain: { id: null, byName: new Map([["Default", "default"]]) } }));
    expect(p.operations).toEqual([{ kind: "ensureDomain", name: DOMAIN, policies: [] }]);
  });

  it("no-op when it exists; never changes or deletes a domain", () => {
    expect(plan(desiredOf(), observedOf()).operations).toEqual([]);
  });
});
