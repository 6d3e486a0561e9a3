import { checkSecrets, formatProblem, type LoadedConfig } from "../config/index.js";
import type { Logger } from "../log/index.js";
import type { CliIO } from "./command.js";

/**
 * The start-up check of `serve`, `worker`, `sync` and `config check`: prints one located line per public demo
 * secret or weak key and returns 2 (refused), or prints the demo-mode warning and returns undefined (go on).
 * `host` is the address the command will listen on, when a flag overrides `listen.host`.
 */
export function secretsGate(
  loaded: LoadedConfig,
  io: CliIO,
  opts: { host?: string; log?: Logger } = {},
): number | undefined {
  const verdict = checkSecrets(loaded, opts.host);
  for (const p of verdict.refused) io.err(formatProblem(p));
  if (verdict.refused.length > 0) {
    io.err("refusing to start: these secrets are public or weak (docs/operations.md#secrets)");
    return 2;
  }
  if (verdict.warning) {
    io.err(`WARNING: ${verdict.warning}`);
    opts.log?.warn({ demo: true }, verdict.warning);
  }
  return undefined;
}
