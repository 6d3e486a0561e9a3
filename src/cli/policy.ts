import { readFileSync } from "node:fs";
import { ConfigError, formatProblem, type LoadedConfig, loadConfig } from "../config/index.js";
import { createSources, type Identity, IdentitySchema, isLookupSource } from "../identity/index.js";
import { importKeystoneMapping } from "../policy/import-keystone.js";
import { explain, formatExplanation, loadPolicies } from "../policy/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  requireCloud,
  UsageError,
  unknownSubcommand,
} from "./command.js";

const HELP = `Usage:
  archway policy check [--json] [--allow-empty] [--config FILE]
      compile every policy file and check its references (clouds, labels, sources, roles);
      prints one located line per problem (file:line:column: path: what was expected) and exits 2 on problems.
      No policy at all is a problem too (sync would take everything away), unless --allow-empty.
  archway policy explain <username | identity.json> [--cloud ID] [--json] [--config FILE]
      for one person: every policy, whether it matched (or the first condition that failed), and the resulting
      grants per cloud. A username is looked up in the identity sources; a .json file is an identity as is.
  archway policy import-keystone <mapping.json> [--name PREFIX] [--json]
      turn a Keystone federation mapping into Archway policies (YAML on stdout); a rule that cannot be
      expressed is refused with a line saying why, and the exit code is 2`;

/** `archway policy ...`: check, explain, import-keystone. */
export const policyCommand: Command = {
  name: "policy",
  summary: "check policies, explain a person's access, import Keystone mappings",
  help: HELP,
  subcommands: ["check", "explain", "import-keystone"],
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      cloud: { type: "string" },
      json: { type: "boolean" },
      name: { type: "string" },
      "allow-empty": { type: "boolean" },
    });
    const [sub, arg] = positionals;
    expectPositionals(positionals, sub === "check" ? 1 : 2);
    switch (sub) {
      case "check":
        return check(io, values.config, { json: values.json === true, allowEmpty: values["allow-empty"] === true });
      case "explain":
        if (!arg) throw new UsageError("expected a username or an identity.json file");
        return explainOne(io, values.config, arg, values.cloud, values.json ?? false);
      case "import-keystone": {
        if (!arg) throw new UsageError("expected a mapping.json file");
        const result = importKeystoneMapping(JSON.parse(readFileSync(arg, "utf8")), {
          namePrefix: values.name ?? "imported",
        });
        if (values.json) io.out(JSON.stringify({ yaml: result.yaml, refused: result.refused }, null, 2));
        else {
          for (const refusal of result.refused) io.err(`${arg}: ${refusal}`);
          if (result.yaml) io.out(result.yaml);
        }
        return result.refused.length > 0 ? 2 : 0;
      }
      default:
        throw unknownSubcommand(sub, policyCommand.subcommands ?? []);
    }
  },
};

function load(io: CliIO, config: string | undefined): LoadedConfig | number {
  try {
    return loadConfig(configPath(config, io), { env: io.env, cwd: io.cwd });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) io.err(formatProblem(p));
    return 2;
  }
}

function compile(io: CliIO, loaded: LoadedConfig) {
  const { config } = loaded;
  return loadPolicies(
    loaded.policiesDir,
    { clouds: config.clouds, sources: config.identity.sources.map((s) => s.id), roles: config.roles },
    io.cwd,
  );
}

function check(io: CliIO, configFile: string | undefined, opts: { json: boolean; allowEmpty: boolean }): number {
  const loaded = load(io, configFile);
  if (typeof loaded === "number") return loaded;
  const { policies, problems } = compile(io, loaded);
  if (policies.policies.length === 0 && problems.length === 0 && !opts.allowEmpty) {
    problems.push({
      file: loaded.policiesDir,
      line: 1,
      column: 1,
      path: "",
      message:
        "no policies: nobody would get anything, and sync would take away what Archway gave; add policies, or pass --allow-empty if that is what you want",
    });
  }
  if (opts.json) {
    const names = policies.policies.map((p) => p.name);
    io.out(
      JSON.stringify(
        { policiesDir: loaded.policiesDir, ok: problems.length === 0, policies: names, problems },
        null,
        2,
      ),
    );
    return problems.length > 0 ? 2 : 0;
  }
  for (const p of problems) io.err(formatProblem(p));
  if (problems.length > 0) return 2;
  io.out(`${loaded.policiesDir}: ok (${policies.policies.length} policies)`);
  return 0;
}

async function explainOne(
  io: CliIO,
  configFile: string | undefined,
  who: string,
  cloudId: string | undefined,
  json: boolean,
): Promise<number> {
  const loaded = load(io, configFile);
  if (typeof loaded === "number") return loaded;
  const { policies, problems } = compile(io, loaded);
  for (const p of problems) io.err(formatProblem(p));
  if (problems.length > 0) return 2;
  requireCloud(loaded.config.clouds, cloudId);
  const identity = who.endsWith(".json")
    ? IdentitySchema.parse(JSON.parse(readFileSync(who, "utf8")))
    : await lookup(loaded, who);
  if (!identity) {
    io.err(`no identity source knows '${who}'`);
    return 1;
  }
  const result = explain(identity, policies, { cloudId });
  io.out(json ? JSON.stringify(result, null, 2) : formatExplanation(result));
  return 0;
}

async function lookup(loaded: LoadedConfig, username: string): Promise<Identity | null> {
  const sources = createSources(loaded.config.identity.sources);
  try {
    for (const source of sources) {
      if (!isLookupSource(source)) continue;
      const found = await source.lookup(username);
      if (found) return found;
    }
    return null;
  } finally {
    await Promise.allSettled(sources.map((s) => s.close()));
  }
}
