import type { Identity } from "../identity/index.js";
import type { AttributeMatcher, Subjects } from "./schema.js";

/** Checks a person against a policy's subjects: null when every condition holds, else the first that failed. */
export type SubjectCheck = (identity: Identity) => string | null;

// Fields every identity has, usable in attribute matchers as if they were attributes.
const VIRTUAL: Record<string, (i: Identity) => string[]> = {
  username: (i) => [i.username],
  email: (i) => (i.email ? [i.email] : []),
  displayName: (i) => (i.displayName ? [i.displayName] : []),
  source: (i) => [i.source],
};

/** Values of an attribute (or a virtual field such as `email`) for matching. */
export function attributeValues(identity: Identity, name: string): string[] {
  return identity.attributes[name] ?? VIRTUAL[name]?.(identity) ?? [];
}

/** True when the person is in `group`: a name, or a DN (contains `=`) compared case-insensitively. */
function inGroup(identity: Identity, group: string): boolean {
  if (!group.includes("=")) return identity.groups.includes(group);
  const dn = group.toLowerCase();
  return identity.groupDns.some((g) => g.toLowerCase() === dn);
}

const list = (xs: readonly string[]) => `[${xs.join(", ")}]`;

/** Compiles one attribute matcher; `regexes` holds the compiled `matches` patterns by source text. */
export function attributeCheck(m: AttributeMatcher, index: number): SubjectCheck {
  const where = `subjects.attributes[${index}] (${m.name})`;
  let test: (v: string) => boolean;
  let wanted: string;
  if (m.equals !== undefined) {
    const expected = m.equals;
    test = (v) => v === expected;
    wanted = `equal to '${expected}'`;
  } else if (m.in !== undefined) {
    const allowed = new Set(m.in);
    test = (v) => allowed.has(v);
    wanted = `one of ${list(m.in)}`;
  } else {
    // Unanchored, as Keystone's mapping regexes are: write ^...$ for a whole-value match.
    const re = new RegExp(m.matches ?? "", "u");
    test = (v) => re.test(v);
    wanted = `matching /${m.matches}/`;
  }
  return (identity) => {
    const values = attributeValues(identity, m.name);
    const hit = values.some(test);
    if (m.not ? !hit : hit) return null;
    return m.not ? `${where}: a value is ${wanted}` : `${where}: no value ${wanted}`;
  };
}

/** Compiles the subjects block into one check that reports the first failing condition. */
export function compileSubjects(s: Subjects): SubjectCheck {
  const checks: SubjectCheck[] = [];
  if (s.sources) {
    const sources = new Set(s.sources);
    checks.push((i) =>
      sources.has(i.source) ? null : `subjects.sources: source '${i.source}' not in ${list(s.sources ?? [])}`,
    );
  }
  if (s.usernames) {
    const names = new Set(s.usernames);
    checks.push((i) => (names.has(i.username) ? null : `subjects.usernames: '${i.username}' not listed`));
  }
  const g = s.groups;
  if (g?.anyOf) {
    const anyOf = g.anyOf;
    checks.push((i) => (anyOf.some((x) => inGroup(i, x)) ? null : `subjects.groups.anyOf: in none of ${list(anyOf)}`));
  }
  if (g?.allOf) {
    const allOf = g.allOf;
    checks.push((i) => {
      const missing = allOf.filter((x) => !inGroup(i, x));
      return missing.length === 0 ? null : `subjects.groups.allOf: not in ${list(missing)}`;
    });
  }
  if (g?.noneOf) {
    const noneOf = g.noneOf;
    checks.push((i) => {
      const present = noneOf.filter((x) => inGroup(i, x));
      return present.length === 0 ? null : `subjects.groups.noneOf: in ${list(present)}`;
    });
  }
  s.attributes?.forEach((m, index) => {
    checks.push(attributeCheck(m, index));
  });
  return (identity) => {
    for (const check of checks) {
      const failed = check(identity);
      if (failed) return failed;
    }
    return null;
  };
}
