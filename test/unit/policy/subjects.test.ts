import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Identity } from "../../../src/identity/index.js";
import type { AttributeMatcher, Subjects } from "../../../src/policy/schema.js";
import { compileSubjectMatcher, compileSubjects } from "../../../src/policy/subjects.js";
import { person } from "./fixtures.js";

// A few names (one virtual field, one an Object has anyway) and values, so that matchers on one name combine.
type Groups = NonNullable<Subjects["groups"]>;

const names = ["groups", "email", "constructor", "dept"];
const values = ["devs", "ops", "", "a@eng.example.org", "devs;ops"];
const matcherArb: fc.Arbitrary<AttributeMatcher> = fc
  .record({
    name: fc.constantFrom(...names),
    kind: fc.constantFrom("equals", "in", "matches"),
    value: fc.constantFrom(...values),
    list: fc.subarray(values, { minLength: 1 }),
    pattern: fc.constantFrom("", "^devs$", "ops", "@eng\\.example\\.org$", "^d", "(?:.*s)", "o|x", "\\."),
    not: fc.boolean(),
  })
  .map(({ name, kind, value, list, pattern, not }) =>
    kind === "equals"
      ? { name, equals: value, not }
      : kind === "in"
        ? { name, in: list, not }
        : { name, matches: pattern, not },
  );
const identityArb: fc.Arbitrary<Identity> = fc
  .record({
    attributes: fc.dictionary(fc.constantFrom(...names), fc.subarray(values), { maxKeys: 3 }),
    email: fc.option(fc.constantFrom(...values), { nil: undefined }),
    groups: fc.subarray(["devs", "ops"]),
  })
  .map((x) => person(x));

/** The documented meaning, written plainly: some value (own attribute, else the virtual field) passes; `not` negates. */
function holds(m: AttributeMatcher, who: Identity): boolean {
  const own = Object.hasOwn(who.attributes, m.name) ? who.attributes[m.name] : undefined;
  const fallback = m.name === "email" ? who.email || undefined : undefined;
  const found = own ?? (fallback === undefined ? [] : [fallback]);
  const hit = found.some((v) =>
    m.equals !== undefined
      ? v === m.equals
      : m.in !== undefined
        ? m.in.includes(v)
        : new RegExp(m.matches ?? "", "u").test(v),
  );
  return m.not ? !hit : hit;
}

describe("the evaluation matcher", () => {
  it("gives the explain check's verdict, and the documented one (matchers on one attribute are combined)", () => {
    fc.assert(
      fc.property(
        fc.array(matcherArb, { minLength: 1, maxLength: 6 }),
        fc.option(fc.constantFrom<Groups>({ anyOf: ["devs"] }, { noneOf: ["ops"] }), { nil: undefined }),
        fc.array(identityArb, { maxLength: 5 }),
        (attributes, groups, people) => {
          const subjects = { attributes, ...(groups ? { groups } : {}) };
          const matches = compileSubjectMatcher(subjects);
          const check = compileSubjects(subjects);
          for (const who of people) {
            const expected =
              attributes.every((m) => holds(m, who)) &&
              (!groups || ("anyOf" in groups ? who.groups.includes("devs") : !who.groups.includes("ops")));
            expect(matches(who)).toBe(expected);
            expect(check(who) === null).toBe(expected);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
