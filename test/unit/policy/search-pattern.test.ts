import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSearch, literalSearch, searchPattern } from "../../../src/policy/search-pattern.js";

describe("searchPattern drops a leading .* without changing what a search finds", () => {
  it.each([
    [".*@eng\\.example\\.org$", "@eng\\.example\\.org$"],
    ["(?:.*@eng\\.example\\.org$)", "(?:@eng\\.example\\.org$)"],
    ["(?:.*a)|(?:.*?b)|c", "(?:a)|(?:b)|c"],
    [".*", ""],
    ["^.*x", "^.*x"],
    ["[.*|]x|.*y", "[.*|]x|y"],
    ["\\.*x", "\\.*x"],
    ["(?:.*a)+", "(?:.*a)+"],
    ["(.*a)", "(.*a)"],
  ])("%s -> %s", (source, expected) => {
    expect(searchPattern(source)).toBe(expected);
  });

  it("finds the same values as the original pattern", () => {
    const piece = fc.constantFrom(".*", ".*?", "a", "b", "@", "$", "^", "|", "(?:", ")", "[a|]", "\\.", "x?");
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 8 }),
        fc.array(fc.stringMatching(/^[ab@.x\n]{0,6}$/)),
        (parts, values) => {
          const source = parts.join("");
          let original: RegExp;
          try {
            original = new RegExp(source, "u");
          } catch {
            return; // not a pattern the compiler would accept
          }
          const rewritten = new RegExp(searchPattern(source), "u");
          for (const v of values) expect(rewritten.test(v)).toBe(original.test(v));
        },
      ),
    );
  });
});

describe("plain-text patterns become string searches that find what the regular expression finds", () => {
  it.each([
    ["@eng\\.example\\.org$", true],
    ["(?:@eng\\.example\\.org$)", true],
    ["^devs$", true],
    ["^a\\$", true],
    ["a/b\\/c", true],
    ["a.b", false],
    ["^(?:a)$", false],
    ["a|b", false],
    ["\\d", false],
    ["x?", false],
    ["\\\\$", false], // an escaped backslash, then the end: left to the regular expression
  ])("%s: literal %s", (source, literal) => {
    expect(literalSearch(source) !== undefined).toBe(literal);
  });

  it("agrees with RegExp.test", () => {
    const piece = fc.constantFrom(
      "a",
      "@",
      "/",
      "^",
      "$",
      "\\.",
      "\\$",
      "\\\\",
      "\\/",
      "(?:",
      ")",
      ".",
      "\u00e9",
      "\ud83d",
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 7 }),
        // Surrogates too: with the `u` flag a lone one in the pattern never matches half of a pair.
        fc.array(
          fc.oneof(fc.stringMatching(/^[ab@./$\\\u00e9\n]{0,6}$/), fc.constantFrom("\u{1f600}", "a\ud83d", "\ud83d@")),
        ),
        (parts, values) => {
          const source = parts.join("");
          let re: RegExp;
          try {
            re = new RegExp(source, "u");
          } catch {
            return;
          }
          const search = compileSearch(source);
          const literal = literalSearch(source);
          for (const v of values) {
            expect(search(v)).toBe(re.test(v));
            if (literal) expect(literal(v)).toBe(re.test(v));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
