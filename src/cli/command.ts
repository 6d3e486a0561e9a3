import { type ParseArgsConfig, parseArgs } from "node:util";

/** Where a command writes; tests pass buffers, `main.ts` passes the process streams. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** True when stdout is a terminal (progress bars, colours). */
  isTTY: boolean;
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

/** The `--config` option every command that reads the configuration accepts. */
export const configOption = { config: { type: "string", short: "c" } } as const;

/** Config file to use: `--config`, else `$ARCHWAY_CONFIG`, else `config/archway.yaml`. */
export function configPath(value: string | undefined, io: CliIO): string {
  return value ?? io.env.ARCHWAY_CONFIG ?? "config/archway.yaml";
}
