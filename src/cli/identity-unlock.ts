import { userInfo } from "node:os";
import { pino } from "pino";
import { createAudit } from "../audit/index.js";
import { LoginGuard } from "../identity/index.js";
import { createLogger } from "../log/index.js";
import { type CliIO, stderrLog } from "./command.js";
import { buildRuntime } from "./runtime.js";

/**
 * `archway identity unlock <person>`: clears every sign-in limit on a person (a username in any spelling, or a
 * stable identity id) in the shared store, audited with the operator's login name. Exit 0 when something was
 * cleared or the person is known, 1 when no source knows them and nothing was held.
 */
export async function unlockPerson(
  configFile: string,
  person: string,
  opts: { json: boolean },
  io: CliIO,
): Promise<number> {
  const runtime = buildRuntime(configFile, io, { logDestination: stderrLog() });
  try {
    const { config } = runtime.loaded;
    // The audit line goes to stderr: stdout is the command's answer (`--json` must stay parseable).
    const log = createLogger({
      level: config.log.level,
      secrets: runtime.loaded.secrets,
      destination: pino.destination({ dest: 2, sync: true }),
    });
    const audit = createAudit({ store: runtime.store, log });
    const guard = new LoginGuard({ store: runtime.store, audit, limits: config.identity.lockout });
    const actor = `cli:${io.env.USER ?? safeUser()}`;
    const result = await guard.unlock(person, { sources: runtime.sources, actor, via: "cli" });
    if (opts.json) io.out(JSON.stringify(result, null, 2));
    else if (result.known)
      io.out(`unlocked '${person}': ${result.cleared} limit(s) cleared (${result.subjects.join(", ")})`);
    if (!result.known) {
      io.err(`no identity source knows '${person}' and no limit was held for it`);
      return 1;
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
