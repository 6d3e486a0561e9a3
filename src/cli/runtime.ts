import { type LoadedConfig, loadConfig } from "../config/index.js";
import { createSources, type IdentitySource } from "../identity/index.js";
import { createLogger, type Logger } from "../log/index.js";
import { createStore, type Store } from "../store/index.js";
import type { CliIO } from "./command.js";

/** The dependency graph every long-running command shares, built once from the configuration. */
export interface Runtime {
  loaded: LoadedConfig;
  log: Logger;
  store: Store;
  sources: IdentitySource[];
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

/** Loads the config and builds logger, store and identity sources. */
export function buildRuntime(configFile: string, io: CliIO): Runtime {
  const loaded = loadConfig(configFile, { env: io.env, cwd: io.cwd });
  const log = createLogger({ level: loaded.config.log.level, secrets: loaded.secrets });
  const store = createStore(loaded.config.store);
  const sources = createSources(loaded.config.identity.sources);
  return {
    loaded,
    log,
    store,
    sources,
    async close() {
      await Promise.allSettled(sources.map((s) => s.close()));
      await store.close();
      log.flush();
    },
  };
}
