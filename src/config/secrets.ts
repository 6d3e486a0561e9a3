import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";

const REFERENCE = /^\$\{(env|file):([^}]+)\}$/;

/**
 * Every secret value resolved from `${env:...}` or `${file:...}`. The logger and the error formatter use it to
 * scrub those values wherever they might appear, so a secret never reaches a log even by accident.
 */
export class SecretValues {
  readonly #values = new Set<string>();

  /** Takes every value of `other` too (a reloaded configuration's secrets join the ones already scrubbed). */
  addAll(other: SecretValues): void {
    for (const value of other.#values) this.#values.add(value);
  }

  add(value: string): void {
    // Very short values would scrub ordinary words; they are still secrets but cannot be matched safely.
    if (value.length >= 4) this.#values.add(value);
  }

  /** Replaces every known secret in `text` with `[REDACTED]`. */
  scrub(text: string): string {
    let out = text;
    for (const value of this.#values) {
      if (out.includes(value)) out = out.split(value).join("[REDACTED]");
    }
    return out;
  }

  get size(): number {
    return this.#values.size;
  }
}

export interface SecretProblem {
  path: PropertyKey[];
  message: string;
}

/**
 * Replaces, in place, each string that is exactly `${env:NAME}` or `${file:PATH}` with the value it names.
 * Returns the problems (unset variable, unreadable file) without the values themselves.
 */
export function resolveSecretReferences(
  value: unknown,
  opts: { env: NodeJS.ProcessEnv; baseDir: string; secrets: SecretValues },
): SecretProblem[] {
  const problems: SecretProblem[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === "string") {
      const match = REFERENCE.exec(node.trim());
      if (!match) return node;
      const [, kind, ref] = match as unknown as [string, "env" | "file", string];
      if (kind === "env") {
        const v = opts.env[ref];
        if (v === undefined || v === "") {
          problems.push({ path, message: `environment variable ${ref} is not set` });
          return node;
        }
        opts.secrets.add(v);
        return v;
      }
      const file = isAbsolute(ref) ? ref : resolve(opts.baseDir, ref);
      try {
        const v = readFileSync(file, "utf8").replace(/\r?\n$/, "");
        opts.secrets.add(v);
        return v;
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code ?? "unreadable";
        problems.push({ path, message: `secret file ${file} cannot be read (${reason})` });
        return node;
      }
    }
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = walk(node[i], [...path, i]);
      return node;
    }
    if (node && typeof node === "object") {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) obj[key] = walk(obj[key], [...path, key]);
      return obj;
    }
    return node;
  };
  walk(value, []);
  return problems;
}
