/**
 * Lists up to this long are searched in place: comparing a handful of strings (most differ in length, so most
 * comparisons stop there) costs less than hashing a value that, freshly split from a claim, has no hash yet.
 */
export const SCAN_MAX = 8;

/** A membership test for a fixed list of strings: a scan for a short list, a Set beyond. */
export function memberOf(values: readonly string[]): (value: string) => boolean {
  if (values.length > SCAN_MAX) {
    const set = new Set(values);
    return (v) => set.has(v);
  }
  const list = [...values];
  return (v) => contains(list, v);
}

/**
 * `list.includes(value)` for the short lists of policies and claims: a loop the optimizing compiler inlines, where
 * `includes` is a call into a builtin that costs more than the few comparisons it makes.
 */
export function contains(list: readonly string[], value: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === value) return true;
  return false;
}

/**
 * `into` (sorted, no repeats) with the values of `more` it lacks, sorted: `into` itself when it lacks none, which is
 * what nearly every merge finds (every member of a team brings the team project with the same tags and policies).
 */
export function sortedUnion(into: string[], more: readonly string[]): string[] {
  if (more.length === 0) return into;
  // Both lists hold at most one entry per tag or policy; past a few dozen a scan per value would cost more than
  // the Set.
  if (into.length * more.length <= 256 && more.every((v) => contains(into, v))) return into;
  return [...new Set([...into, ...more])].sort();
}
