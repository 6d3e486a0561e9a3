import {
  ConfigError,
  checkSecrets,
  didYouMean,
  formatProblem,
  type LocatedProblem,
  loadConfig,
} from "../config/index.js";
import { hashPassword } from "../identity/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  UsageError,
  unknownSubcommand,
} from "./command.js";
import { SCHEMA_NAMES, schemaByName } from "./schemas.js";

const HELP = `Usage:
  archway config check [--json] [--config FILE]
                                          validate the config and its clouds inventory; exit 2 on problems
  archway config schema [NAME]            print a JSON Schema (for editors): config (default), clouds (a clouds.d
                                          file), policy (a policy document), report:<name> (a --json report, e.g.
                                          report:sync-plan); the same files are under schema/ in the repository
  archway config hash-password            read a password on stdin, print a scrypt hash for a static user

Problems are printed one per line as file:line:column: path: what was expected.
Secrets given as \${env:NAME} or \${file:PATH} are resolved but never printed. The public demo secrets of
config/secrets/ (wherever they are copied) and weak secrets.* keys (under 32 bytes, under 12 different characters,
or a short piece repeated) are problems too, unless the config says demo: true with a loopback listen.host.`;

/** `archway config ...`: check a config file, export its JSON Schema, hash a static user's password. */
export const configCommand: Command = {
  name: "config",
  summary: "check the configuration, print its JSON Schema, hash a password",
  help: HELP,
  subcommands: ["check", "schema", "hash-password"],
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...configOption, json: { type: "boolean" } });
    const [sub, name] = positionals;
    expectPositionals(positionals, sub === "schema" ? 2 : 1);
    switch (sub) {
      case "check":
        return check(configPath(values.config, io), values.json === true, io);
      case "schema": {
        if (values.json) throw new UsageError("config schema prints JSON already: drop --json");
        const schema = schemaByName(name ?? "config");
        if (!schema)
          throw new UsageError(
            `unknown schema '${name}'${didYouMean(name ?? "", SCHEMA_NAMES)} (one of: ${SCHEMA_NAMES.join(", ")})`,
          );
        io.out(JSON.stringify(schema, null, 2));
        return 0;
      }
      case "hash-password": {
        const password = (await readStdin()).replace(/\r?\n$/, "");
        if (!password) throw new UsageError("expected a password on standard input");
        io.out(await hashPassword(password));
        return 0;
      }
      default:
        throw unknownSubcommand(sub, configCommand.subcommands ?? []);
    }
  },
};

/** `config check`: problems on stderr (or in the JSON report), exit 2 when there are any. */
function check(file: string, json: boolean, io: CliIO): number {
  let report: { ok: boolean; problems: LocatedProblem[]; clouds?: number; identitySources?: number; warning?: string };
  try {
    const loaded = loadConfig(file, { env: io.env, cwd: io.cwd });
    const { clouds, identity } = loaded.config;
    const verdict = checkSecrets(loaded);
    report = {
      ok: verdict.refused.length === 0,
      problems: verdict.refused,
      clouds: clouds.length,
      identitySources: identity.sources.length,
      ...(verdict.warning ? { warning: verdict.warning } : {}),
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    report = { ok: false, problems: err.problems };
  }
  if (json) {
    io.out(JSON.stringify({ file, ...report }, null, 2));
    return report.ok ? 0 : 2;
  }
  for (const p of report.problems) io.err(formatProblem(p));
  if (!report.ok) return 2;
  if (report.warning) io.err(`WARNING: ${report.warning}`);
  io.out(`${file}: ok (${report.clouds} clouds, ${report.identitySources} identity sources)`);
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
