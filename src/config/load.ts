import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ArchwayError } from "../errors.js";
import {
  formatPath,
  formatProblem,
  type LocatedDocument,
  type LocatedProblem,
  parseYaml,
  zodProblems,
} from "./located-yaml.js";
import { type Cloud, CloudInventoryFileSchema, type Config, ConfigSchema } from "./schema/index.js";
import { resolveSecretReferences, SecretValues } from "./secrets.js";
import { checkSigning } from "./signing-keys.js";
import { didYouMean } from "./suggest.js";
import { findWeakSecrets } from "./weak-secrets.js";

/** A configuration that passed every check, with where it came from. */
export interface LoadedConfig {
  config: Config;
  /** Absolute path of the main config file. */
  file: string;
  /** Absolute path of the policies folder. */
  policiesDir: string;
  /** Secrets resolved while loading: pass to the logger so they are scrubbed. */
  secrets: SecretValues;
  /**
   * Public demo secrets and weak keys found in the files, located. Not errors by themselves: `demo: true` on a
   * loopback address allows them, so the commands decide (see `checkSecrets`).
   */
  weakSecrets: LocatedProblem[];
  /** Where `demo:` is written, to point at it when demo mode is refused. */
  demoAt: Omit<LocatedProblem, "path" | "message">;
}

/** Thrown by {@link loadConfig} with every problem found, not just the first. */
export class ConfigError extends ArchwayError {
  readonly problems: LocatedProblem[];
  constructor(problems: LocatedProblem[]) {
    super("config_invalid", problems.map(formatProblem).join("\n"), 500);
    this.problems = problems;
  }
}

interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Shown in problems instead of absolute paths (defaults to the current directory). */
  cwd?: string;
}

/**
 * Reads, resolves secrets in, and validates the config file plus its clouds inventory folder.
 * Throws {@link ConfigError} listing every located problem.
 */
export function loadConfig(path: string, opts: LoadOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const file = resolve(cwd, path);
  const shown = (f: string) => relative(cwd, f) || f;
  const secrets = new SecretValues();
  const problems: LocatedProblem[] = [];
  const weakSecrets: LocatedProblem[] = [];

  const parsed = parseFile(file, shown(file), problems, { main: true });
  if (!parsed) throw new ConfigError(problems);
  const baseDir = dirname(file);
  for (const p of resolveSecretReferences(parsed.value, { env, baseDir, secrets })) {
    problems.push({ file: shown(file), ...parsed.locate(p.path), path: formatPath(p.path), message: p.message });
  }
  for (const w of findWeakSecrets(parsed.value, { keysUnder: "secrets" })) {
    weakSecrets.push({ file: shown(file), ...parsed.locate(w.path), path: formatPath(w.path), message: w.message });
  }
  const result = ConfigSchema.safeParse(parsed.value ?? {});
  if (!result.success) {
    problems.push(...zodProblems(result.error, shown(file), parsed, [], ConfigSchema));
    throw new ConfigError(problems);
  }
  const config = result.data;
  if (config.cloudsDir) {
    config.clouds.push(
      ...loadInventory(resolve(baseDir, config.cloudsDir), { env, secrets, shown, problems, weakSecrets }),
    );
  }
  checkUnique(config.clouds, "cloud", shown(file), parsed, problems);
  checkDistinctKeystones(config.clouds, shown(file), parsed, problems);
  checkUnique(config.identity.sources, "identity source", shown(file), parsed, problems);
  checkUnique(config.idp.clients, "idp client", shown(file), parsed, problems);
  checkClientClouds(config, shown(file), parsed, problems);
  if (!config.demo && !config.deploymentId)
    problems.push({
      file: shown(file),
      ...parsed.locate([]),
      path: "deploymentId",
      message:
        "is required outside demo mode: a short name unique among the Archway deployments sharing a Keystone (e.g. deploymentId: prod-eu); every mark Archway writes in the clouds carries it",
    });
  problems.push(...checkSigning(config, baseDir, shown(file), parsed));
  if (problems.length > 0) throw new ConfigError(problems);
  const demoAt = { file: shown(file), ...parsed.locate(["demo"]) };
  return { config, file, policiesDir: resolve(baseDir, config.policiesDir), secrets, weakSecrets, demoAt };
}

/**
 * Two clouds on one Keystone and one domain would be synced as two clouds over the same objects: each run would
 * undo the other's plan (and deletions would count twice). Refuse it; one cloud per Keystone and domain.
 */
function checkDistinctKeystones(
  clouds: readonly Cloud[],
  file: string,
  doc: LocatedDocument,
  problems: LocatedProblem[],
): void {
  const seen = new Map<string, string>();
  clouds.forEach((cloud, i) => {
    const key = `${keystoneIdentity(cloud.authUrl)}\u0000${cloud.domain}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({
        file,
        ...doc.locate(["clouds", i]),
        path: `clouds[${i}]`,
        message: `cloud '${cloud.id}' is the same Keystone (${cloud.authUrl}) and domain '${cloud.domain}' as cloud '${first}': sync would run twice over the same objects; give one its own domain`,
      });
    } else seen.set(key, cloud.id);
  });
}

/** The Keystone an auth URL points at, spelled one way (scheme and host case, default port, trailing slash). */
function keystoneIdentity(authUrl: string): string {
  try {
    const u = new URL(authUrl);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, "")}`;
  } catch {
    return authUrl;
  }
}

function parseFile(
  file: string,
  shownName: string,
  problems: LocatedProblem[],
  opts: { main?: boolean } = {},
): LocatedDocument | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "unreadable";
    // The commonest first mistake: no --config, and no config/archway.yaml where the command was started.
    const hint =
      opts.main && code === "ENOENT"
        ? ": no configuration file there; give one with --config FILE or $ARCHWAY_CONFIG (default config/archway.yaml)"
        : "";
    problems.push({ file: shownName, line: 1, column: 1, path: "", message: `cannot read file (${code})${hint}` });
    return undefined;
  }
  const { documents, problems: syntax } = parseYaml(text, shownName);
  problems.push(...syntax);
  if (syntax.length > 0) return undefined;
  if (documents.length > 1) {
    problems.push({ file: shownName, line: 1, column: 1, path: "", message: "expected one YAML document" });
    return undefined;
  }
  return documents[0] ?? { value: {}, locate: () => ({ line: 1, column: 1 }) };
}

function loadInventory(
  dir: string,
  ctx: {
    env: NodeJS.ProcessEnv;
    secrets: SecretValues;
    shown: (f: string) => string;
    problems: LocatedProblem[];
    weakSecrets: LocatedProblem[];
  },
): Cloud[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  } catch {
    ctx.problems.push({
      file: ctx.shown(dir),
      line: 1,
      column: 1,
      path: "cloudsDir",
      message: "folder cannot be read",
    });
    return [];
  }
  const clouds: Cloud[] = [];
  for (const name of names.sort()) {
    const file = join(dir, name);
    const doc = parseFile(file, ctx.shown(file), ctx.problems);
    if (!doc) continue;
    for (const p of resolveSecretReferences(doc.value, { env: ctx.env, baseDir: dir, secrets: ctx.secrets })) {
      ctx.problems.push({ file: ctx.shown(file), ...doc.locate(p.path), path: formatPath(p.path), message: p.message });
    }
    for (const w of findWeakSecrets(doc.value)) {
      ctx.weakSecrets.push({
        file: ctx.shown(file),
        ...doc.locate(w.path),
        path: formatPath(w.path),
        message: w.message,
      });
    }
    const result = CloudInventoryFileSchema.safeParse(doc.value ?? {});
    if (!result.success)
      ctx.problems.push(...zodProblems(result.error, ctx.shown(file), doc, [], CloudInventoryFileSchema));
    else clouds.push(...result.data.clouds);
  }
  return clouds;
}

/** Every cloud an IdP client may get tokens for must exist and be federated (its audience means nothing otherwise). */
function checkClientClouds(config: Config, file: string, doc: LocatedDocument, problems: LocatedProblem[]): void {
  const clouds = new Map(config.clouds.map((c) => [c.id, c]));
  config.idp.clients.forEach((client, i) => {
    client.clouds.forEach((id, j) => {
      const cloud = clouds.get(id);
      if (cloud?.mode === "federated") return;
      const path = ["idp", "clients", i, "clouds", j];
      problems.push({
        file,
        ...doc.locate(path),
        path: formatPath(path),
        message: cloud
          ? `cloud '${id}' is not in federated mode`
          : `unknown cloud '${id}'${didYouMean(id, clouds.keys())}`,
      });
    });
  });
}

function checkUnique(
  items: readonly { id: string }[],
  what: string,
  file: string,
  doc: LocatedDocument,
  problems: LocatedProblem[],
): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id)) {
      problems.push({
        file,
        ...doc.locate([]),
        path: "",
        message: `${what} id '${item.id}' is defined more than once`,
      });
    }
    seen.add(item.id);
  }
}
