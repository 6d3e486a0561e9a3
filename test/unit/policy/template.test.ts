import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { alreadySafe, keystoneName } from "../../../src/policy/template.js";

// What keystoneName once tested with a regular expression.
const SAFE = /^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,62}[A-Za-z0-9_@]$|^[A-Za-z0-9_@]$/;

describe("keystoneName's fast path", () => {
  it("takes exactly the names the regular expression took", () => {
    const char = fc.constantFrom("a", "Z", "0", "9", "_", "@", ".", "-", " ", "/", "é", "`", "[", "{", ":");
    fc.assert(
      fc.property(fc.array(char, { maxLength: 70 }), fc.integer({ min: 0, max: 66 }), (chars, pad) => {
        for (const raw of [chars.join(""), "a".repeat(pad) + chars.join("")]) {
          expect(alreadySafe(raw)).toBe(SAFE.test(raw));
          if (alreadySafe(raw)) expect(keystoneName(raw)).toBe(raw);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ["a", true],
    ["a-b.c_d@e", true],
    ["-a", false],
    ["a.", false],
    ["x".repeat(64), true],
    ["x".repeat(65), false],
    ["", false],
  ])("%s: %s", (raw, safe) => {
    expect(alreadySafe(raw)).toBe(safe);
  });
});
