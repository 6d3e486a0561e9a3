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
