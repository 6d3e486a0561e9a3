import type { CliIO } from "../../src/cli/index.js";

/** A CliIO that records what a command prints, with its own environment. */
export function captureIO(env: NodeJS.ProcessEnv = {}): CliIO & { stdout(): string; stderr(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    env,
    cwd: process.cwd(),
    isTTY: false,
    stdout: () => out.join("\n"),
    stderr: () => err.join("\n"),
  };
}
