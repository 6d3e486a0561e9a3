#!/usr/bin/env node
/**
 * `archway <command>`: the single entry point (serve, worker, config, policy, sync, identity, ...).
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type CliIO, commands, UsageError } from "./cli/index.js";
import { archwayVersion } from "./cli/version.js";
import { ConfigError, formatProblem } from "./config/index.js";

const USAGE = `archway: identity gateway for many shared-nothing OpenStack clouds

Usage: archway <command> [options]    (archway <command> --help for details)
       archway --version

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join("\n")}
`;

/** Runs one command line and returns the exit code (exported for tests). */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(`archway ${archwayVersion()}`);
    return rest.length === 0 ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`archway: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`archway ${name}: ${err.message}\nRun 'archway ${name} --help' for usage.`);
      return 2;
    }
    // A configuration that cannot work (located problems, e.g. an unusable signing.dir) is bad input: exit 2,
    // one problem per line, as `archway config check` prints them.
    if (err instanceof ConfigError) {
      for (const p of err.problems) io.err(`archway ${name}: ${formatProblem(p)}`);
      return 2;
    }
    const e = err as { code?: string; message?: string };
    io.err(`archway ${name}: ${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}`);
    return 1;
  }
}

function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  const io: CliIO = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
    cwd: process.cwd(),
    isTTY: process.env.ARCHWAY_TTY ? process.env.ARCHWAY_TTY === "1" : Boolean(process.stdout.isTTY),
    errRaw: (text) => process.stderr.write(text),
  };
  runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
    // Every command closes what it opened, so the process normally ends here by itself. A handle some library
    // keeps (a socket, a timer) must not turn a finished command into one that never exits: a second later, exit.
    setTimeout(() => process.exit(code), 1_000).unref();
  });
}
