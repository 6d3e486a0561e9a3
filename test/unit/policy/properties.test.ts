import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compilePolicies, desiredState, evaluate } from "../../../src/policy/index.js";
import { ctx, person } from "./fixtures.js";

// Every cloud accepts every role here: role checks are covered by the compile tests.
const anyRoleCtx = { ...ctx, clouds: ctx.clouds.map((c) => ({ ...c, roles: [] })) };

// Random policy sets over a small vocabulary, so that matches and conflicts are frequent.
const groups = ["devs", "ops", "admins", "contractors"];
const cloudSelectors = [
  "{}",
  "{ names: [region-1] }",
  "{ labels: { kind: edge } }",
  "{ names: ['store-*'], exclude: [store-0100] }",
];
const projects = ["shared", "u-{{ username }}", "ops"];
const roles = ["member", "reader"];

const policyArb = fc.record({
  deny: fc.boolean(),
  anyOf: fc.subarray(groups, { minLength: 1 }),
  clouds: fc.constantFrom(...cloudSelectors),
  project: fc.constantFrom(...projects),
  role: fc.constantFrom(...roles),
  keys: fc.boolean(),
  denyRoles: fc.option(fc.subarray(roles, { minLength: 1 }), { nil: undefined }),
});
type PolicyArb = typeof policyArb extends fc.Arbitrary<infer T> ? T : never;

function yaml(p: PolicyArb, i: number): string {
  const subjects = `  subjects: { groups: { anyOf: [${p.anyOf.join(", ")}] } }\n  clouds: ${p.clouds}\n`;
  if (p.deny) {
    return `apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: p${i} }\nspec:\n${subjects}${p.denyRoles ? `  roles: [${p.denyRoles.join(", ")}]\n` : ""}`;
  }
  return `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: p${i} }\nspec:\n${subjects}  grants: [{ project: "${p.project}", roles: [${p.role}] }]\n  keys: ${p.keys}\n`;
}

const personArb = fc
  .record({ name: fc.constantFrom("ann", "ben", "cy"), groups: fc.subarray(groups) })
  .map((x) => person({ username: x.name, groups: x.groups, sshKeys: [`ssh-ed25519 AAAA ${x.name}@laptop`] }));

function compileFiles(docs: string[], fileCount: number) {
  const files = Array.from({ length: fileCount }, (_, f) => ({
    file: `f${f}.yaml`,
    text: docs.filter((_, i) => i % fileCount === f).join("---\n"),
  }));
  const result = compilePolicies(
    files.filter((f) => f.text !== ""),
    anyRoleCtx,
  );
  expect(result.problems).toEqual([]);
  return result.policies;
}

const toJson = (m: Map<string, unknown>) => JSON.stringify([...m]);

// Hundreds of generated policy sets per property: seconds on a quiet machine, more when CI shares its cores. A
// property either holds or fails with a counterexample; the bound is only there to tell a hang.
describe("policy evaluation properties", { timeout: 60_000 }, () => {
  it("is deterministic and independent of file and document order", () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 8 }),
        fc.array(personArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (policies, people, files) => {
          const docs = policies.map(yaml);
          const a = compileFiles(docs, 1);
          const b = compileFiles([...docs].reverse(), files);
          for (const who of people) {
            expect(toJson(evaluate(who, a))).toBe(toJson(evaluate(who, a)));
            expect(toJson(evaluate(who, b))).toBe(toJson(evaluate(who, a)));
          }
          const unique = dedupe(people);
          expect(toJson(desiredState([...unique].reverse(), b))).toBe(toJson(desiredState(unique, a)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("gives the same result past the size where matches are kept as a bit mask", () => {
    // Up to 30 policies, a combination of matching policies is a bit mask with a cached plan; beyond, a list.
    const padding = Array.from(
      { length: 31 },
      (_, i) =>
        `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: pad${i} }\nspec:\n  subjects: ${i % 2 ? "{ usernames: [nobody] }" : "{ groups: { anyOf: [nobody] } }"}\n  grants: [{ project: shared, roles: [member] }]\n`,
    );
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 8 }),
        fc.array(personArb, { minLength: 1, maxLength: 4 }),
        (policies, people) => {
          const docs = policies.map(yaml);
          const small = compileFiles(docs, 1);
          const large = compileFiles([...docs, ...padding], 2);
          for (const who of people) {
            expect(toJson(evaluate(who, large))).toBe(toJson(evaluate(who, small)));
            expect(toJson(evaluate(who, small))).toBe(toJson(evaluate(who, small))); // a cached plan, reused
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it("lets a matching deny always win over any allow", () => {
    fc.assert(
      fc.property(fc.array(policyArb, { minLength: 1, maxLength: 8 }), personArb, (policies, who) => {
        // Add a total deny for one of the person's groups (or everyone) on edge clouds.
        const denyAll = `apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: zz-deny }\nspec:\n  clouds: { labels: { kind: edge } }\n`;
        const set = compileFiles([...policies.map(yaml), denyAll], 2);
        for (const cloudId of evaluate(who, set).keys()) expect(cloudId.startsWith("store-")).toBe(false);
        // And a role-scoped deny removes exactly that role, wherever it was granted.
        const denyReader = `apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: zz-deny }\nspec:\n  roles: [reader]\n`;
        const set2 = compileFiles([...policies.map(yaml), denyReader], 1);
        for (const access of evaluate(who, set2).values())
          expect(access.assignments.every((x) => x.role !== "reader")).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it("gives desired state that is the union of each person's evaluation", () => {
    fc.assert(
      fc.property(
        fc.array(policyArb, { minLength: 1, maxLength: 6 }),
        fc.array(personArb, { maxLength: 4 }),
        (policies, people) => {
          const set = compileFiles(policies.map(yaml), 1);
          const unique = dedupe(people);
          const state = desiredState(unique, set);
          for (const who of unique) {
            for (const [cloudId, access] of evaluate(who, set)) {
              expect(state.get(cloudId)?.assignments).toEqual(expect.arrayContaining(access.assignments));
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

function dedupe<T extends { id: string }>(xs: T[]): T[] {
  const seen = new Map<string, T>();
  for (const x of xs) if (!seen.has(x.id)) seen.set(x.id, x);
  return [...seen.values()];
}
