import { describe, expect, it } from "vitest";
import type { DesiredCloudState } from "../../../src/policy/index.js";
import { canonicalDigest, planMismatch } from "../../../src/sync/index.js";
import type { CloudPlan } from "../../../src/sync/plan.js";

const desired = (names: string[]): DesiredCloudState => ({
  cloudId: "c1",
  users: names.map((n) => ({ identityId: `s:${n}`, username: n })) as DesiredCloudState["users"],
  projects: [],
  assignments: [],
  keys: [],
  memberships: [],
});
const plan = (names: string[]): CloudPlan => ({
  cloudId: "c1",
  operations: names.map((n) => ({ kind: "createUser", identityId: `s:${n}`, username: n, policies: ["p"] })),
  problems: [],
  counts: { create: names.length, update: 0, revoke: 0, disable: 0, delete: 0 },
  destructive: 0,
  orphans: [],
});

describe("saved plans", () => {
  it("digests do not depend on the order of lists or keys, and do on their content", () => {
    expect(canonicalDigest({ a: [1, 2, { x: 1, y: 2 }], b: "z" })).toBe(
      canonicalDigest({ b: "z", a: [{ y: 2, x: 1 }, 2, 1] }),
    );
    expect(canonicalDigest(desired(["ann", "bo"]))).toBe(canonicalDigest(desired(["bo", "ann"])));
    expect(canonicalDigest(desired(["ann"]))).not.toBe(canonicalDigest(desired(["ann", "bo"])));
    expect(canonicalDigest({ a: undefined, b: 1 })).toBe(canonicalDigest({ b: 1 }));
    expect(canonicalDigest(["1"])).not.toBe(canonicalDigest([1]));
  });

  it("applies only the reviewed plan: a changed cloud or changed people are refused with the reason", () => {
    const expected = {
      planId: "p-1",
      desiredDigest: canonicalDigest(desired(["ann", "bo"])),
      planDigest: canonicalDigest(plan(["ann", "bo"]).operations),
    };
    expect(planMismatch(expected, "c1", desired(["bo", "ann"]), plan(["bo", "ann"]))).toBeNull();
    expect(planMismatch(expected, "c1", desired(["ann", "bo"]), plan(["ann"]))).toMatch(
      /cloud c1 changed since plan p-1 was made \(it now needs 1 operation/,
    );
    expect(planMismatch(expected, "c1", desired(["ann"]), plan(["ann"]))).toMatch(
      /people or policies for cloud c1 changed since plan p-1/,
    );
  });
});
