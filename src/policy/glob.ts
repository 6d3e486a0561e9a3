/** True when `pattern` has glob characters. */
export function isGlob(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/** Compiles a glob (`*` any run, `?` one character, everything else literal) to an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}

/** A matcher for a list of globs (or plain names, compared exactly). */
export function globMatcher(patterns: readonly string[]): (value: string) => boolean {
  const exact = new Set(patterns.filter((p) => !isGlob(p)));
  const globs = patterns.filter(isGlob).map(globToRegExp);
  return (value) => exact.has(value) || globs.some((g) => g.test(value));
}
