import type { LoadedConfig } from "./load.js";
import type { LocatedProblem } from "./located-yaml.js";
import { isLoopbackHost } from "./weak-secrets.js";

/** What the secrets of a loaded config allow: refuse to start (with why), or start, perhaps with a warning. */
export interface SecretsVerdict {
  /** Non-empty: the command must not start; one located line per weak or public secret. */
  refused: LocatedProblem[];
  /** Set in demo mode: print it at every start. */
  warning?: string;
}

/**
 * Decides whether a command may run with the config's secrets when it listens on `host` (`serve --host`
 * overrides `listen.host`). Public demo secrets and weak keys are refused, unless `demo: true`, which is itself
 * refused on any address other than loopback: a demo is for this machine only.
 */
export function checkSecrets(loaded: LoadedConfig, host = loaded.config.listen.host): SecretsVerdict {
  const { config, weakSecrets } = loaded;
  if (!config.demo) return { refused: weakSecrets };
  if (!isLoopbackHost(host)) {
    return {
      refused: [
        ...weakSecrets,
        {
          ...loaded.demoAt,
          path: "demo",
          message: `demo: true is allowed only with a loopback listen address (127.0.0.0/8, ::1, localhost), not ${host}`,
        },
      ],
    };
  }
  const what = weakSecrets.length > 0 ? ` (${weakSecrets.map((w) => w.path).join(", ")})` : "";
  return {
    refused: [],
    warning:
      `DEMO MODE (demo: true): public demo or weak secrets are accepted${what}. Anyone who knows them can act ` +
      "as Archway towards the clouds. Allowed on a loopback address only; never use this config for real clouds.",
  };
}
