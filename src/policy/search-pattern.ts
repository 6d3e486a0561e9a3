/**
 * A pattern that a yes/no search (`RegExp.test`, Keystone's `re.search`) finds in exactly the same values as
 * `source`, without the leading `.*` of its top-level alternatives. `.*` may match nothing, so `.*X` is found
 * somewhere exactly when `X` is (anchors and lookbehinds look at the whole input, not at where a match began),
 * but V8 would retry `.*` from every start position: quadratic in the value's length, and Keystone mappings often
 * begin with `.*`. `source` must already compile with the `u` flag; the original is returned when the rewrite
 * would not compile (a defensive fallback: it always should).
 */
export function searchPattern(source: string): string {
  const rewritten = dropLeadingDotStar(source);
  if (rewritten === source) return source;
  try {
    new RegExp(rewritten, "u");
    return rewritten;
  } catch {
    return source;
  }
}

function dropLeadingDotStar(source: string): string {
  return topLevelAlternatives(source).map(simplifyAlternative).join("|");
}

function simplifyAlternative(alt: string): string {
  let rest = alt;
  // `.*?` first: dropping only `.*` of it would leave a dangling `?`.
  for (;;) {
    if (rest.startsWith(".*?")) rest = rest.slice(3);
    else if (rest.startsWith(".*")) rest = rest.slice(2);
    else break;
  }
  // A non-capturing group that is the whole alternative searches the same as its content.
  if (rest.startsWith("(?:") && closingParen(rest, 0) === rest.length - 1) {
    return `(?:${dropLeadingDotStar(rest.slice(3, -1))})`;
  }
  return rest;
}

/** Splits a pattern at its `|` outside groups and character classes. */
function topLevelAlternatives(source: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (c === "[") i = classEnd(source, i);
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      parts.push(source.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(source.slice(start));
  return parts;
}

/** Index of the `)` closing the group opened at `open`, or -1. */
function closingParen(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") i++;
    else if (c === "[") i = classEnd(source, i);
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** Index of the `]` closing the character class opened at `open` (with the `u` flag classes do not nest). */
function classEnd(source: string, open: number): number {
  for (let i = open + 1; i < source.length; i++) {
    if (source[i] === "\\") i++;
    else if (source[i] === "]") return i;
  }
  return source.length;
}

/**
 * Compiles a pattern (valid with the `u` flag) into a yes/no search, as `new RegExp(source, "u").test` finds it:
 * plain text becomes a string search (see {@link literalSearch}), anything else a regular expression without its
 * leading `.*` (see {@link searchPattern}).
 */
export function compileSearch(source: string): (value: string) => boolean {
  const pattern = searchPattern(source);
  const literal = literalSearch(pattern);
  if (literal) return literal;
  const re = new RegExp(pattern, "u");
  return (v) => re.test(v);
}

// Characters with a meaning in a pattern; escaped (`\.`) they stand for themselves, as does `\/` (with the `u`
// flag no other character may be escaped that way).
const SYNTAX = new Set("^$\\.*+?()[]{}|");
const ESCAPABLE = new Set([...SYNTAX, "/"]);

/**
 * A string test that finds a `u`-flag pattern in exactly the values `RegExp.test` does, when the pattern is plain
 * text with at most a leading `^` and a trailing `$` (and maybe wrapped whole in `(?:` `)`, as imports write it):
 * `@eng\.example\.org$` becomes an `endsWith`. Undefined for any other pattern. Imported Keystone rules are
 * mostly of this kind, and a string search costs a fraction of a regular expression's.
 */
export function literalSearch(source: string): ((value: string) => boolean) | undefined {
  let body = source;
  while (body.startsWith("(?:") && closingParen(body, 0) === body.length - 1) body = body.slice(3, -1);
  const start = body.startsWith("^");
  const end = body.endsWith("$") && !body.endsWith("\\$");
  const text = literalText(body.slice(start ? 1 : 0, end ? -1 : undefined));
  if (text === undefined) return undefined;
  if (start && end) return (v) => v === text;
  if (start) return (v) => v.startsWith(text);
  if (end) return (v) => v.endsWith(text);
  return (v) => v.includes(text);
}

/** The text a pattern without operators stands for, or undefined when it has one (or a surrogate, see below). */
function literalText(pattern: string): string | undefined {
  let text = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    const code = c.charCodeAt(0);
    // With the `u` flag a lone surrogate never matches half of a pair, which a string search would.
    if (code >= 0xd800 && code <= 0xdfff) return undefined;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined || !ESCAPABLE.has(next)) return undefined; // \d, \b, \u0041 ...: not plain text
      text += next;
      i++;
    } else if (SYNTAX.has(c)) return undefined;
    else text += c;
  }
  return text;
}
