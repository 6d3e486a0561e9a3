import { ConfigError, didYouMean, formatProblem, loadConfig } from "../config/index.js";
import { createSources, isLookupSource } from "../identity/index.js";
import {
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  UsageError,
  unknownSubcommand,
} from "./command.js";
import { unlockPerson } from "./identity-unlock.js";

const HELP = `Usage: archway identity lookup <source> <username> [--json] [--config FILE]
       archway identity unlock <person> [--json] [--config FILE]

lookup: prints what Archway sees for a person in one identity source: the stable id, username, email, display
name, groups (names and DNs, nested included), SSH public keys and the selected attributes. For operators
debugging their directory; it needs no password (the source's service account reads the entry).

unlock: clears every sign-in limit on a person (refused username/address pairs and delays), in the store every
Archway process shares; <person> is a username in any spelling or a stable identity id. Audited. Exit 0 when
unlocked, 1 when no source knows the person and nothing was held, 2 on bad usage or configuration.`;

/** `archway identity lookup`: what a source returns for one username. */
export const identityCommand: Command = {
  name: "identity",
  summary: "show what an identity source returns for a person; unlock a person's sign-in limits",
  help: HELP,
  subcommands: ["lookup", "unlock"],
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { ...configOption, json: { type: "boolean" } });
    const [sub, sourceId, username] = positionals;
    expectPositionals(positionals, sub === "unlock" ? 2 : 3);
    if (sub === "unlock") {
      if (!sourceId || positionals.length !== 2) throw new UsageError("expected: unlock <person>");
      try {
        return await unlockPerson(configPath(values.config, io), sourceId, { json: values.json === true }, io);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) io.err(formatProblem(p));
        return 2;
      }
    }
    if (sub !== "lookup") throw unknownSubcommand(sub, identityCommand.subcommands ?? []);
    if (!sourceId || !username) throw new UsageError("expected: lookup <source> <username>");
    let loaded: ReturnType<typeof loadConfig>;
    try {
      loaded = loadConfig(configPath(values.config, io), { env: io.env, cwd: io.cwd });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) io.err(formatProblem(p));
      return 2;
    }
    const config = loaded.config.identity.sources.find((s) => s.id === sourceId);
    if (!config) {
      const ids = loaded.config.identity.sources.map((s) => s.id);
      throw new UsageError(
        `unknown identity source '${sourceId}'${didYouMean(sourceId, ids)} (configured: ${ids.join(", ")})`,
      );
    }
    const [source] = createSources([config]);
    try {
      if (!source || !isLookupSource(source))
        throw new UsageError(`source '${sourceId}' cannot look people up (type ${config.type})`);
      const identity = await source.lookup(username);
      if (!identity) {
        io.err(`${sourceId}: no enabled person '${username}'`);
        return 1;
      }
      if (values.json) {
        io.out(JSON.stringify(identity, null, 2));
        return 0;
      }
      io.out(`id:           ${identity.id}`);
      io.out(`username:     ${identity.username}`);
      io.out(`email:        ${identity.email ?? "-"}`);
      io.out(`display name: ${identity.displayName ?? "-"}`);
      io.out(`groups:       ${identity.groups.join(", ") || "-"}`);
      for (const dn of identity.groupDns) io.out(`  ${dn}`);
      io.out(`ssh keys:     ${identity.sshKeys.length}`);
      for (const key of identity.sshKeys) io.out(`  ${key}`);
      for (const [name, vals] of Object.entries(identity.attributes)) io.out(`${name}: ${vals.join(", ")}`);
      return 0;
    } finally {
      await source?.close();
    }
  },
};
