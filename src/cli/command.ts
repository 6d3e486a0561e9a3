import { type ParseArgsConfig, parseArgs } from "node:util";
import { pino } from "pino";
import { didYouMean } from "../config/index.js";

/** Where a command writes; tests pass buffers, `main.ts` passes the process streams. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /**
   * True when stdout is a terminal (progress bars on stderr, summary tables). `main.ts` takes it from the process,
   * or from `ARCHWAY_TTY=1|0` when set (tests, or forcing bars off in a terminal).
   */
  isTTY: boolean;
  /** Writes to stderr as is, without a newline (redrawn progress bars); absent, bars use `err`. */
  errRaw?(text: string): void;
}

/**
 * One `archway <name> ...` command. `run` gets the arguments after the command name and returns the exit code:
 * 0 success, 1 failure, 2 bad input (usage or invalid files).
 */
export interface Command {
  readonly name: string;
  /** One line for `archway --help`. */
  readonly summary: string;
  /** Full help text printed by `archway <name> --help`. */
  readonly help: string;
  /**
   * The subcommands (`archway <name> <subcommand>`), for did-you-mean hints and for the test that runs every one
   * of them with a bad flag. Absent when the command takes none (its modes are flags).
   */
  readonly subcommands?: readonly string[];
  run(argv: string[], io: CliIO): Promise<number>;
}

/** Thrown for bad command-line usage; `main` prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {}

/** `node:util` parseArgs, turning its errors into {@link UsageError}. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * Refuses arguments past the `expected` positionals of a (sub)command, so that a mistyped command line fails with
 * exit 2 instead of running with part of it ignored.
 */
export function expectPositionals(positionals: readonly string[], expected: number): void {
  const extra = positionals[expected];
  if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
}

/**
 * The refusal of a missing or unknown subcommand, with a did-you-mean hint (`archway sync plna` -> 'plan').
 * Returns the error for the caller to throw, so that the compiler sees the switch end there.
 */
export function unknownSubcommand(sub: string | undefined, known: readonly string[]): UsageError {
  return new UsageError(
    sub ? `unknown subcommand '${sub}'${didYouMean(sub, known)}` : `expected a subcommand: ${known.join(", ")}`,
  );
}

/**
 * Checks a `--cloud ID` (or a cloud argument) against the configured clouds: an unknown one is bad input (exit 2),
 * with the closest configured id as a hint (`--cloud clodu-2` -> did you mean 'cloud-2'?).
 */
export function requireCloud(clouds: readonly { id: string }[], cloudId: string | undefined): void {
  if (cloudId === undefined || clouds.some((c) => c.id === cloudId)) return;
  const ids = clouds.map((c) => c.id);
  throw new UsageError(
    `unknown cloud '${cloudId}'${didYouMean(cloudId, ids)} (${ids.length} configured${ids.length > 0 && ids.length <= 5 ? `: ${ids.join(", ")}` : ""})`,
  );
}

/**
 * Where one-shot commands log: standard error, so that standard output holds only the command's answer (its
 * text, or the one document `--json` promises). Long-running `serve` and `worker` keep logging to stdout.
 */
export function stderrLog() {
  return pino.destination({ dest: 2, sync: true });
}

/** The `--config` option every command that reads the configuration accepts. */
export const configOption = { config: { type: "string", short: "c" } } as const;

/** Config file to use: `--config`, else `$ARCHWAY_CONFIG`, else `config/archway.yaml`. */
export function configPath(value: string | undefined, io: CliIO): string {
  return value ?? io.env.ARCHWAY_CONFIG ?? "config/archway.yaml";
}
