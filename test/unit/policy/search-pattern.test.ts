import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { searchPattern } from "../../../src/policy/search-pattern.js";

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
