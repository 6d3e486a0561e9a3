import { type Cloud, didYouMean } from "../config/index.js";
import type { CloudSelector } from "./common-schema.js";
import { globMatcher, isGlob } from "./glob.js";

/** Reports a problem at a path of the document being compiled. */
export type Problem = (path: PropertyKey[], message: string) => void;

/** Resolves a cloud selector against the inventory, reporting names, labels and exclusions that match nothing. */
export function selectClouds(sel: CloudSelector, clouds: readonly Cloud[], problem: Problem): Cloud[] {
  const ids = new Set(clouds.map((c) => c.id));
  const checkNames = (names: readonly string[], field: "names" | "exclude") =>
    names.forEach((n, i) => {
      if (isGlob(n) ? !clouds.some((c) => globMatcher([n])(c.id)) : !ids.has(n)) {
        problem(
          ["spec", "clouds", field, i],
          isGlob(n) ? `'${n}' matches no cloud` : `unknown cloud '${n}'${didYouMean(n, ids)}`,
        );
      }
    });
  if (sel.names) checkNames(sel.names, "names");
  if (sel.exclude) checkNames(sel.exclude, "exclude");
  const labelTests: [string, (v: string) => boolean][] = [];
  for (const [key, value] of Object.entries(sel.labels ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    const test = globMatcher(values);
    if (!clouds.some((c) => key in c.labels)) {
      const keys = new Set(clouds.flatMap((c) => Object.keys(c.labels)));
      problem(["spec", "clouds", "labels", key], `no cloud has the label '${key}'${didYouMean(key, keys)}`);
    } else if (!clouds.some((c) => c.labels[key] !== undefined && test(c.labels[key]))) {
      const known = new Set(clouds.flatMap((c) => (c.labels[key] === undefined ? [] : [c.labels[key]])));
      const hint = values.length === 1 && !isGlob(values[0] ?? "") ? didYouMean(values[0] ?? "", known) : "";
      problem(["spec", "clouds", "labels", key], `no cloud has label ${key}=${values.join("|")}${hint}`);
    }
    labelTests.push([key, test]);
  }
  const named = sel.names ? globMatcher(sel.names) : () => true;
  const excluded = sel.exclude ? globMatcher(sel.exclude) : () => false;
  return clouds.filter(
    (c) =>
      named(c.id) &&
      !excluded(c.id) &&
      labelTests.every(([key, test]) => c.labels[key] !== undefined && test(c.labels[key])),
  );
}
