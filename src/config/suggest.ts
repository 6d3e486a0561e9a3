import type { z } from "zod";

/**
 * "Did you mean" for a mistyped name: the closest candidate by edit distance (insertions, deletions,
 * substitutions and swaps of neighbours, case ignored), if it is close enough to be a typo of it: at most one edit
 * for short names, a third of the length for longer ones. Returns the hint text (` (did you mean 'x'?)`) or "".
 */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase(), bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean '${best}'?)`;
}

/** Optimal string alignment distance, giving up (returning `cap`) once every path costs at least `cap`. */
function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, (prev2[j - 2] ?? 0) + 1);
      row.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin >= cap) return cap;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? cap;
}

/** The zod internals this walk reads: the `def` every v4 schema carries. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: readonly z.ZodType[];
  getter?: () => z.ZodType;
}
const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;

/**
 * The keys an object schema accepts at `path` inside `schema` (through optional, default, array, record, pipe,
 * lazy and union wrappers; a union gives the keys of all its object options), or none when no object is there.
 */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType[] = [schema];
  for (const key of path) current = current.flatMap((s) => objects(s)).flatMap((s) => child(s, key));
  return [...new Set(current.flatMap((s) => objects(s)).flatMap((s) => Object.keys(defOf(s).shape ?? {})))];
}

/** The object (or array/record) schemas a schema stands for once its wrappers are taken off. */
function objects(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "catch":
      return def.innerType ? objects(def.innerType, depth + 1) : [];
    case "pipe":
      return def.in ? objects(def.in, depth + 1) : [];
    case "lazy":
      return def.getter ? objects(def.getter(), depth + 1) : [];
    case "union":
      return (def.options ?? []).flatMap((o) => objects(o, depth + 1));
    default:
      return [schema];
  }
}

function child(schema: z.ZodType, key: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  if (def.type === "object" && typeof key === "string") return def.shape?.[key] ? [def.shape[key]] : [];
  if (def.type === "array" && typeof key === "number") return def.element ? [def.element] : [];
  if (def.type === "record") return def.valueType ? [def.valueType] : [];
  return [];
}
