import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { comparePair, compareStrings, compareTriple, sortInPlace } from "../../../src/policy/order.js";

// Characters around "/" in code-unit order ("-" and "." sort before it, letters after), so that prefixes and
// separators interact.
const part = fc.stringMatching(/^[-./ab]{0,4}$/);
const sign = (n: number) => Math.sign(n);

describe("result orders", () => {
  it("order pairs and triples as their '/'-joined strings (the keys results were sorted by)", () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 6, maxLength: 6 }), ([a1, a2, a3, b1, b2, b3]) => {
        const [x1 = "", x2 = "", x3 = "", y1 = "", y2 = "", y3 = ""] = [a1, a2, a3, b1, b2, b3];
        const pair = compareStrings(`${x1}/${x2}`, `${y1}/${y2}`);
        if (pair !== 0) expect(sign(comparePair(x1, x2, y1, y2))).toBe(pair);
        const triple = compareStrings(`${x1}/${x2}/${x3}`, `${y1}/${y2}/${y3}`);
        if (triple !== 0) expect(sign(compareTriple(x1, x2, x3, y1, y2, y3))).toBe(triple);
      }),
      { numRuns: 2000 },
    );
  });

  it("keep apart, in a fixed order, different fields that join to the same string", () => {
    expect(comparePair("a/b", "c", "a", "b/c")).toBeGreaterThan(0);
    expect(comparePair("a", "b/c", "a/b", "c")).toBeLessThan(0);
    expect(compareTriple("a/p", "x", "y", "a", "p", "x/y")).toBeGreaterThan(0);
    expect(compareTriple("a", "p", "x/y", "a/p", "x", "y")).toBeLessThan(0);
    expect(comparePair("a", "b", "a", "b")).toBe(0);
  });

  it("are total orders: antisymmetric, and zero only for equal fields", () => {
    fc.assert(
      fc.property(fc.array(part, { minLength: 4, maxLength: 4 }), ([a1, a2, b1, b2]) => {
        const [x1 = "", x2 = "", y1 = "", y2 = ""] = [a1, a2, b1, b2];
        const c = comparePair(x1, x2, y1, y2);
        expect(sign(comparePair(y1, y2, x1, x2)) + sign(c)).toBe(0);
        expect(c === 0).toBe(x1 === y1 && x2 === y2);
      }),
      { numRuns: 2000 },
    );
  });

  it("sortInPlace sorts as Array.prototype.sort does, short lists and long", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 3 }), { maxLength: 30 }), (xs) => {
        const copy = [...xs];
        const sorted = sortInPlace(copy, compareStrings);
        expect(sorted).toBe(copy);
        expect(sorted).toEqual([...xs].sort());
      }),
    );
  });
});
