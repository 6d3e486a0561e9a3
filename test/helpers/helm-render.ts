import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";

// Helm is not packaged for Debian and no cluster runs here: this renders the subset of Go templates that
// deploy/helm/archway uses (values, release and chart fields, if/else/end, define/include, and the pipeline
// functions toYaml, nindent, indent, quote, default, trunc, trimSuffix, b64enc), and throws on anything else,
// so a template that strays from the subset fails the test rather than rendering wrong.

type Value = unknown;
interface Scope {
  Values: Record<string, Value>;
  Release: { Name: string; Namespace: string; Service: string };
  Chart: { Name: string; Version: string; AppVersion: string };
}
type Node = { text: string } | { action: string } | { if: string; yes: Node[]; no: Node[] };

function tokens(source: string): Array<{ text: string } | { action: string }> {
  const out: Array<{ text: string } | { action: string }> = [];
  const re = /\{\{(-?)\s*(.*?)\s*(-?)\}\}/gs;
  let last = 0;
  let trimNext = false;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.replace(/^\s+/, "");
    if (m[1] === "-") text = text.replace(/\s+$/, "");
    out.push({ text });
    out.push({ action: m[2] ?? "" });
    trimNext = m[3] === "-";
    last = re.lastIndex;
  }
  const tail = source.slice(last);
  out.push({ text: trimNext ? tail.replace(/^\s+/, "") : tail });
  return out;
}

function tree(list: Array<{ text: string } | { action: string }>, defines: Map<string, Node[]>): Node[] {
  let i = 0;
  const block = (): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < list.length) {
      const t = list[i++]!;
      if ("text" in t) {
        nodes.push(t);
        continue;
      }
      const a = t.action;
      if (a.startsWith("/*")) continue;
      if (a === "end" || a === "else") return { nodes, end: a };
      const define = /^define "([^"]+)"$/.exec(a);
      if (define) {
        defines.set(define[1]!, block().nodes);
        continue;
      }
      if (a.startsWith("if ")) {
        const then = block();
        const otherwise = then.end === "else" ? block().nodes : [];
        nodes.push({ if: a.slice(3), yes: then.nodes, no: otherwise });
        continue;
      }
      nodes.push(t);
    }
    return { nodes, end: "" };
  };
  return block().nodes;
}

function path(scope: Scope, expr: string): Value {
  if (expr === ".") return scope;
  let v: Value = scope;
  for (const part of expr.slice(1).split(".")) {
    v = v && typeof v === "object" ? (v as Record<string, Value>)[part] : undefined;
  }
  return v;
}

function words(expr: string): string[] {
  return expr.match(/"[^"]*"|\S+/g) ?? [];
}

function term(word: string, scope: Scope): Value {
  if (word.startsWith('"')) return word.slice(1, -1);
  if (/^\d+$/.test(word)) return Number(word);
  if (word === "true" || word === "false") return word === "true";
  if (word.startsWith(".")) return path(scope, word);
  throw new Error(`helm-render: unsupported term ${word}`);
}

const truthy = (v: Value) =>
  !(
    v === undefined ||
    v === null ||
    v === false ||
    v === "" ||
    v === 0 ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === "object" && v !== null && Object.keys(v).length === 0)
  );

function call(fn: string, args: Value[], defines: Map<string, Node[]>): Value {
  const last = args[args.length - 1];
  switch (fn) {
    case "include": {
      const body = defines.get(String(args[0]));
      if (!body) throw new Error(`helm-render: no template ${String(args[0])}`);
      return render(body, args[1] as Scope, defines);
    }
    case "toYaml":
      return truthy(last) ? stringify(last, { lineWidth: 0 }).replace(/\n$/, "") : "";
    case "nindent":
      return `\n${String(last).replace(/^/gm, " ".repeat(Number(args[0])))}`;
    case "indent":
      return String(last).replace(/^/gm, " ".repeat(Number(args[0])));
    case "quote":
      return JSON.stringify(String(last ?? ""));
    case "default":
      return truthy(last) && args.length > 1 ? last : args[0];
    case "trunc":
      return String(last).slice(0, Number(args[0]));
    case "trimSuffix":
      return String(last).endsWith(String(args[0])) ? String(last).slice(0, -String(args[0]).length) : last;
    case "b64enc":
      return Buffer.from(String(last)).toString("base64");
    case "not":
      return !truthy(last);
    default:
      throw new Error(`helm-render: unsupported function ${fn}`);
  }
}

function pipeline(expr: string, scope: Scope, defines: Map<string, Node[]>): Value {
  let value: Value;
  let first = true;
  for (const stage of expr.split(/\s\|\s/)) {
    const [head = "", ...rest] = words(stage.trim());
    const args = rest.map((w) => term(w, scope));
    if (!first) args.push(value);
    value = head.startsWith(".") || head.startsWith('"') ? term(head, scope) : call(head, args, defines);
    first = false;
  }
  return value;
}

function render(nodes: Node[], scope: Scope, defines: Map<string, Node[]>): string {
  let out = "";
  for (const n of nodes) {
    if ("text" in n) out += n.text;
    else if ("if" in n) out += render(truthy(pipeline(n.if, scope, defines)) ? n.yes : n.no, scope, defines);
    else out += String(pipeline(n.action, scope, defines) ?? "");
  }
  return out;
}

/** Renders every template of the chart in `dir` with its values.yaml merged under `overrides`; file -> text. */
export function renderChart(
  dir: string,
  overrides: Record<string, Value> = {},
  release = { Name: "archway", Namespace: "default" },
): Map<string, string> {
  const chart = parse(readFileSync(join(dir, "Chart.yaml"), "utf8")) as {
    name: string;
    version: string;
    appVersion: string;
  };
  const values = merge(parse(readFileSync(join(dir, "values.yaml"), "utf8")) as Record<string, Value>, overrides);
  const scope: Scope = {
    Values: values,
    Release: { ...release, Service: "Helm" },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const defines = new Map<string, Node[]>();
  const files = readdirSync(join(dir, "templates")).sort();
  const trees = new Map<string, Node[]>();
  for (const f of files) trees.set(f, tree(tokens(readFileSync(join(dir, "templates", f), "utf8")), defines));
  const out = new Map<string, string>();
  for (const [f, nodes] of trees) if (!f.startsWith("_")) out.set(f, render(nodes, scope, defines));
  return out;
}

function merge(base: Record<string, Value>, over: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object" && !Array.isArray(b)
        ? merge(b as Record<string, Value>, v as Record<string, Value>)
        : v;
  }
  return out;
}
