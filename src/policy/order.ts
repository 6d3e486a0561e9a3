/**
 * The orders of evaluation results, computed from the fields of an entry. Lists have always been in the code-unit
 * order of their entries' identity joined with "/" (`domain/name`, `domain/project/role`), the string keys they
 * were once sorted by; these comparators give that order without building the strings. Two different entries
 * whose fields join to the same string (domain `a/b` with group `c`, domain `a` with group `b/c`) now stay two
 * entries; between them the first differing field decides, so the order stays total and deterministic.
 */

/** Code-unit order, as `Array.prototype.sort` without a comparator. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order of `${a1}/${a2}` against `${b1}/${b2}` (ties between different pairs: by the first field). */
export function comparePair(a1: string, a2: string, b1: string, b2: string): number {
  // An equal first field is an equal prefix, the common case (one domain per cloud).
  if (a1 === b1) return compareStrings(a2, b2);
  // Unless one is a prefix of the other, the first differing code unit lies inside both first fields.
  if (!a1.startsWith(b1) && !b1.startsWith(a1)) return compareStrings(a1, b1);
  return compareStrings(`${a1}/${a2}`, `${b1}/${b2}`) || compareStrings(a1, b1);
}

/** The order of `${a1}/${a2}/${a3}` against `${b1}/${b2}/${b3}` (ties: by the first differing field). */
export function compareTriple(a1: string, a2: string, a3: string, b1: string, b2: string, b3: string): number {
  if (a1 === b1) return comparePair(a2, a3, b2, b3);
  if (!a1.startsWith(b1) && !b1.startsWith(a1)) return compareStrings(a1, b1);
  return compareStrings(`${a1}/${a2}/${a3}`, `${b1}/${b2}/${b3}`) || compareStrings(a1, b1);
}

/** Longest list {@link sortInPlace} sorts itself: below it, `Array.prototype.sort` costs more to start than to run. */
const INSERTION_MAX = 8;

/** Sorts `xs` in place by `compare` and returns it; one person's short lists take an insertion sort. */
export function sortInPlace<T>(xs: T[], compare: (x: T, y: T) => number): T[] {
  if (xs.length > INSERTION_MAX) return xs.sort(compare);
  for (let i = 1; i < xs.length; i++) {
    const x = xs[i] as T;
    let j = i - 1;
    for (; j >= 0 && compare(xs[j] as T, x) > 0; j--) xs[j + 1] = xs[j] as T;
    xs[j + 1] = x;
  }
  return xs;
}
