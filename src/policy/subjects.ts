import type { Identity } from "../identity/index.js";
import type { AttributeMatcher, Subjects } from "./schema.js";
import { compileSearch } from "./search-pattern.js";
import { contains, memberOf, SCAN_MAX } from "./value-set.js";

/** Checks a person against a policy's subjects: null when every condition holds, else the first that failed. */
export type SubjectCheck = (identity: Identity) => string | null;

/** Whether a person satisfies a policy's subjects: the same verdict as {@link SubjectCheck}, with no message built. */
export type SubjectMatcher = (identity: Identity) => boolean;

/**
 * One compiled condition. `holds` runs for every person at every evaluation, so it allocates nothing; `failure`
 * builds the message only when explain asks why.
 */
interface Condition {
  holds: SubjectMatcher;
  failure: (identity: Identity) => string;
}

// Fields every identity has, usable in attribute matchers as if they were attributes (an attribute of the same
// name wins). One value or none, so matching them needs no array.
const VIRTUAL: ReadonlyMap<string, (i: Identity) => string | undefined> = new Map([
  ["username", (i: Identity) => i.username],
  ["email", (i: Identity) => i.email || undefined],
  ["displayName", (i: Identity) => i.displayName || undefined],
  ["source", (i: Identity) => i.source],
]);

/** The attribute's own values, if the identity has the attribute (names such as `constructor` included). */
function ownValues(identity: Identity, name: string): readonly string[] | undefined {
  return Object.hasOwn(identity.attributes, name) ? identity.attributes[name] : undefined;
}

/** Values of an attribute (or a virtual field such as `email`) for matching. */
export function attributeValues(identity: Identity, name: string): readonly string[] {
  const own = ownValues(identity, name);
  if (own) return own;
  const value = VIRTUAL.get(name)?.(identity);
  return value === undefined ? [] : [value];
}

const NO_VALUES: readonly string[] = Object.freeze([]);

/** {@link attributeValues} compiled for one name: whether it needs the own-property test is decided once. */
export function attributeValuesOf(name: string): (identity: Identity) => readonly string[] {
  if (name in Object.prototype || VIRTUAL.has(name)) return (identity) => attributeValues(identity, name);
  return (identity) => identity.attributes[name] ?? NO_VALUES;
}

/** A value test; null when any value will do. */
type ValueTest = ((v: string) => boolean) | null;

/** One attribute matcher as evaluation runs it. */
interface ValueCheck {
  test: ValueTest;
  not: boolean;
  /** The value the test wants when it wants exactly one (`equals`, or `in` a list of one). */
  equals?: string;
  /** The allowed values when the test is membership in a short list of several (`in`), searched in place. */
  in?: readonly string[];
}

function somePasses(values: readonly string[], test: ValueTest): boolean {
  if (test === null) return values.length > 0;
  for (const v of values) if (test(v)) return true;
  return false;
}

function someAllowed(values: readonly string[], allowed: readonly string[]): boolean {
  for (const v of values) if (contains(allowed, v)) return true;
  return false;
}

/** Whether one attribute's values pass one check: compiled per kind of test, so the common ones call nothing. */
type ValuesHold = (values: readonly string[]) => boolean;

/** A check over the values of an attribute the person has (see {@link ValueCheck}). */
function valuesHold(c: ValueCheck): ValuesHold {
  const { test, not } = c;
  if (test === null) return not ? (values) => values.length === 0 : (values) => values.length > 0;
  if (c.equals !== undefined) {
    const wanted = c.equals;
    return not ? (values) => !contains(values, wanted) : (values) => contains(values, wanted);
  }
  if (c.in !== undefined) {
    const allowed = c.in;
    return not ? (values) => !someAllowed(values, allowed) : (values) => someAllowed(values, allowed);
  }
  return not ? (values) => !somePasses(values, test) : (values) => somePasses(values, test);
}

/**
 * Compiles "every check holds for attribute `name`" (a check: some value passes the test, or with `not` none does)
 * for that one name, without allocating per call: the attribute is looked up once for all its checks.
 */
function attributeHolds(name: string, checks: readonly ValueCheck[]): SubjectMatcher {
  const virtual = VIRTUAL.get(name);
  // Plain property access is the fast path; names an Object has anyway (`constructor`) need the own-property test.
  const guarded = name in Object.prototype;
  if (!virtual && !guarded) return plainAttributeHolds(name, checks);
  return (identity) => {
    const own = guarded ? ownValues(identity, name) : identity.attributes[name];
    if (own !== undefined) {
      for (const c of checks) if (somePasses(own, c.test) === c.not) return false;
      return true;
    }
    const value = virtual?.(identity);
    for (const c of checks) if ((value !== undefined && (c.test === null || c.test(value))) === c.not) return false;
    return true;
  };
}

/**
 * {@link attributeHolds} for a name that is neither a virtual field nor an Object property, the usual case: a
 * person without the attribute gets the same verdict whoever they are, and one or two checks (what imported rules
 * have) are called directly rather than through a loop.
 */
function plainAttributeHolds(name: string, checks: readonly ValueCheck[]): SubjectMatcher {
  // Without the attribute no value passes a test: only `not` checks hold.
  const whenAbsent = checks.every((c) => c.not);
  const holds = checks.map(valuesHold);
  const [x, y] = holds;
  if (x !== undefined && holds.length === 1) {
    return (identity) => {
      const own = identity.attributes[name];
      return own === undefined ? whenAbsent : x(own);
    };
  }
  if (x !== undefined && y !== undefined && holds.length === 2) {
    return (identity) => {
      const own = identity.attributes[name];
      return own === undefined ? whenAbsent : x(own) && y(own);
    };
  }
  return (identity) => {
    const own = identity.attributes[name];
    if (own === undefined) return whenAbsent;
    for (const h of holds) if (!h(own)) return false;
    return true;
  };
}

/** True when the person is in `group`: a name, or a DN (contains `=`) compared case-insensitively. */
function groupTest(group: string): SubjectMatcher {
  if (!group.includes("=")) return (identity) => contains(identity.groups, group);
  const dn = group.toLowerCase();
  return (identity) => identity.groupDns.some((g) => g.toLowerCase() === dn);
}

const list = (xs: readonly string[]) => `[${xs.join(", ")}]`;

/** The value test of an attribute matcher and the words explain uses for it. */
function valueTest(m: AttributeMatcher): Omit<ValueCheck, "not"> & { wanted: string } {
  if (m.equals !== undefined) {
    const expected = m.equals;
    return { test: (v) => v === expected, equals: expected, wanted: `equal to '${expected}'` };
  }
  if (m.in !== undefined) {
    const wanted = `one of ${list(m.in)}`;
    const [only] = m.in;
    if (m.in.length === 1 && only !== undefined) return { test: (v) => v === only, equals: only, wanted };
    const test = memberOf(m.in);
    return m.in.length <= SCAN_MAX ? { test, in: m.in, wanted } : { test, wanted };
  }
  const wanted = `matching /${m.matches}/`;
  // An empty pattern is found in every value: the condition is only that the attribute has one (Keystone's
  // "remote attribute present", which every imported rule has).
  if (!m.matches) return { test: null, wanted };
  // Unanchored, as Keystone's mapping regexes are: write ^...$ for a whole-value match.
  return { test: compileSearch(m.matches), wanted };
}

/** Compiles one attribute matcher (`index` is its position, for the message). */
function attributeCondition(m: AttributeMatcher, index: number): Condition {
  const where = `subjects.attributes[${index}] (${m.name})`;
  const { test, wanted } = valueTest(m);
  return {
    holds: attributeHolds(m.name, [{ test, not: m.not }]),
    failure: () => (m.not ? `${where}: a value is ${wanted}` : `${where}: no value ${wanted}`),
  };
}

/** Compiles one attribute matcher into a check that reports why it failed. */
export function attributeCheck(m: AttributeMatcher, index: number): SubjectCheck {
  const c = attributeCondition(m, index);
  return (identity) => (c.holds(identity) ? null : c.failure(identity));
}

function groupConditions(g: NonNullable<Subjects["groups"]>): Condition[] {
  const out: Condition[] = [];
  if (g.anyOf) {
    const anyOf = g.anyOf;
    const tests = anyOf.map(groupTest);
    out.push({
      holds: (i) => tests.some((t) => t(i)),
      failure: () => `subjects.groups.anyOf: in none of ${list(anyOf)}`,
    });
  }
  if (g.allOf) {
    const allOf = g.allOf;
    const tests = allOf.map(groupTest);
    out.push({
      holds: (i) => tests.every((t) => t(i)),
      failure: (i) => `subjects.groups.allOf: not in ${list(allOf.filter((_, k) => !tests[k]?.(i)))}`,
    });
  }
  if (g.noneOf) {
    const noneOf = g.noneOf;
    const tests = noneOf.map(groupTest);
    out.push({
      holds: (i) => !tests.some((t) => t(i)),
      failure: (i) => `subjects.groups.noneOf: in ${list(noneOf.filter((_, k) => tests[k]?.(i)))}`,
    });
  }
  return out;
}

/** Every condition of a subjects block, in the order explain reports the first failure. */
function conditions(s: Subjects): Condition[] {
  const out = coreConditions(s);
  s.attributes?.forEach((m, index) => {
    out.push(attributeCondition(m, index));
  });
  return out;
}

/** The conditions on sources, usernames and groups. */
function coreConditions(s: Subjects): Condition[] {
  const out: Condition[] = [];
  if (s.sources) {
    const sources = new Set(s.sources);
    const listed = list(s.sources);
    out.push({
      holds: (i) => sources.has(i.source),
      failure: (i) => `subjects.sources: source '${i.source}' not in ${listed}`,
    });
  }
  if (s.usernames) {
    const names = new Set(s.usernames);
    out.push({ holds: (i) => names.has(i.username), failure: (i) => `subjects.usernames: '${i.username}' not listed` });
  }
  if (s.groups) out.push(...groupConditions(s.groups));
  return out;
}

/**
 * The attribute matchers as evaluation runs them: one check per attribute name, so that a name several matchers
 * test (an imported Keystone rule may test its groups claim three times) is looked up once. A bare "has a value"
 * matcher is dropped where another positive matcher on the name implies it. The verdict is the same, as every
 * matcher must hold and none has side effects: only the order and the number of lookups differ.
 */
function attributeMatchers(matchers: readonly AttributeMatcher[]): SubjectMatcher[] {
  const byName = new Map<string, ValueCheck[]>();
  for (const m of matchers) {
    const checks = byName.get(m.name) ?? [];
    const { test, equals, in: allowed } = valueTest(m);
    checks.push({ test, not: m.not, equals, in: allowed });
    byName.set(m.name, checks);
  }
  const simplified = [...byName].map(([name, checks]) => {
    const needed = checks.filter((c) => c.not || c.test !== null);
    const implied = needed.some((c) => !c.not);
    if (!implied && needed.length < checks.length) needed.unshift({ test: null, not: false });
    return { name, checks: needed };
  });
  // Bare "has a value" checks last: they rarely fail, so a person another check rules out is ruled out sooner.
  const presenceOnly = (g: { checks: ValueCheck[] }) => (g.checks.every((c) => c.test === null && !c.not) ? 1 : 0);
  simplified.sort((x, y) => presenceOnly(x) - presenceOnly(y));
  return simplified.map((g) => attributeHolds(g.name, g.checks));
}

/** Compiles the subjects block into one check that reports the first failing condition. */
export function compileSubjects(s: Subjects): SubjectCheck {
  const checks = conditions(s);
  return (identity) => {
    for (const c of checks) if (!c.holds(identity)) return c.failure(identity);
    return null;
  };
}

/** Compiles the subjects block into a yes/no matcher for evaluation (same verdict as {@link compileSubjects}). */
export function compileSubjectMatcher(s: Subjects): SubjectMatcher {
  const tests = [...coreConditions(s).map((c) => c.holds), ...attributeMatchers(s.attributes ?? [])];
  // Unrolled for the common sizes: a closure calling closures directly is cheaper than a loop over an array.
  const [a, b, c, d] = tests;
  if (a === undefined) return () => true;
  if (b === undefined) return a;
  if (c === undefined) return (i) => a(i) && b(i);
  if (d === undefined) return (i) => a(i) && b(i) && c(i);
  if (tests.length === 4) return (i) => a(i) && b(i) && c(i) && d(i);
  return (i) => {
    for (const t of tests) if (!t(i)) return false;
    return true;
  };
}
