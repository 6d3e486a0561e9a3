import { z } from "zod";
import { ConfigError, ConfigSchema, checkSecrets, formatProblem, loadConfig } from "../config/index.js";
import { hashPassword } from "../identity/index.js";
import { type Command, configOption, configPath, parseCommandArgs, UsageError } from "./command.js";

const HELP = `Usage:
  archway config check [--config FILE]   validate the config and its clouds inventory; exit 2 on problems
  archway config schema                   print the JSON Schema of the config file (for editors)
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
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, configOption);
    const [sub] = positionals;
    switch (sub) {
      case "check": {
        const file = configPath(values.config, io);
        try {
          const loaded = loadConfig(file, { env: io.env, cwd: io.cwd });
          const { clouds, identity } = loaded.config;
          const verdict = checkSecrets(loaded);
          for (const p of verdict.refused) io.err(formatProblem(p));
          if (verdict.refused.length > 0) return 2;
          if (verdict.warning) io.err(`WARNING: ${verdict.warning}`);
          io.out(`${file}: ok (${clouds.length} clouds, ${identity.sources.length} identity sources)`);
          return 0;
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          for (const p of err.problems) io.err(formatProblem(p));
          return 2;
        }
      }
      case "schema":
        io.out(JSON.stringify(z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }), null, 2));
        return 0;
      case "hash-password": {
        const password = (await readStdin()).replace(/\r?\n$/, "");
        if (!password) throw new UsageError("expected a password on standard input");
        io.out(await hashPassword(password));
        return 0;
      }
      default:
        throw new UsageError(
          sub ? `unknown subcommand '${sub}'` : "expected a subcommand: check, schema, hash-password",
        );
    }
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
