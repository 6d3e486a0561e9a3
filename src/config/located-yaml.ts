import { isMap, isScalar, isSeq, LineCounter, type Node, parseAllDocuments } from "yaml";
import type { z } from "zod";
import { didYouMean, keysAt } from "./suggest.js";

/** A problem found in a file, located to the line and column of the offending value. */
export interface LocatedProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path inside the document, e.g. `clouds[2].authUrl`. */
  path: string;
  message: string;
}

/** One parsed YAML document with a way to find where a value sits in the source. */
export interface LocatedDocument {
  value: unknown;
  /** Line and column (1-based) of the value at `path`, or of its nearest existing parent. */
  locate(path: readonly PropertyKey[]): { line: number; column: number };
}

/**
 * Parses every YAML document in `text`. Syntax errors come back as located problems instead of throwing,
 * so a checker can report all of them at once.
 */
export function parseYaml(text: string, file: string): { documents: LocatedDocument[]; problems: LocatedProblem[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: LocatedProblem[] = [];
  const documents: LocatedDocument[] = [];
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    for (const err of doc.errors) {
      const pos = lineCounter.linePos(err.pos[0]);
      problems.push({
        file,
        line: pos.line,
        column: pos.col,
        path: "",
        message: err.message.split("\n")[0] ?? err.code,
      });
    }
    if (doc.errors.length > 0) continue;
    const contents = doc.contents;
    if (contents === null) continue;
    documents.push({
      value: doc.toJS({ maxAliasCount: 100 }),
      locate(path) {
        let node: Node | null = contents;
        for (const key of path) {
          const next = childOf(node, key);
          if (!next) break;
          node = next;
        }
        const offset = node?.range?.[0] ?? 0;
        const pos = lineCounter.linePos(offset);
        return { line: pos.line, column: pos.col };
      },
    });
  }
  return { documents, problems };
}

function childOf(node: Node | null, key: PropertyKey): Node | null {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && String(pair.key.value) === String(key)) {
        // Point at the value when there is one, otherwise at the key itself.
        return (pair.value as Node | null) ?? (pair.key as Node);
      }
    }
    return null;
  }
  if (isSeq(node) && typeof key === "number") return (node.items[key] as Node | undefined) ?? null;
  return null;
}

/** Renders a path like `clouds[2].admin.password`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/**
 * Turns zod issues into located problems; `prefix` is prepended to each issue path (for nested validation). With
 * the `schema` that was parsed, an unknown key says which known key it is probably a typo of.
 */
export function zodProblems(
  error: z.ZodError,
  file: string,
  doc: LocatedDocument,
  prefix: readonly PropertyKey[] = [],
  schema?: z.ZodType,
): LocatedProblem[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const { line, column } = doc.locate(path);
    const known = schema && issue.code === "unrecognized_keys" ? keysAt(schema, issue.path) : [];
    return { file, line, column, path: formatPath(path), message: describeIssue(issue, known) };
  });
}

function describeIssue(issue: z.core.$ZodIssue, knownKeys: readonly string[]): string {
  if (issue.code === "unrecognized_keys") {
    const keys = issue.keys.map((k) => `'${k}'${didYouMean(k, knownKeys)}`);
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${keys.join(", ")}`;
  }
  if (issue.code === "invalid_union" && "discriminator" in issue && issue.discriminator) {
    return `${issue.message} (field '${issue.discriminator}')`;
  }
  return issue.message;
}

/** One line per problem: `file:line:column: path: message`. */
export function formatProblem(p: LocatedProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${p.path ? `${p.path}: ` : ""}${p.message}`;
}
