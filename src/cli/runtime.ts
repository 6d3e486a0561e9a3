import { statSync } from "node:fs";
import { type Audit, createAudit } from "../audit/index.js";
import { type LoadedConfig, loadConfig, publicUrlOf } from "../config/index.js";
import { createSources, type IdentitySource } from "../identity/index.js";
import { createLogger, type Logger, type LoggerOptions } from "../log/index.js";
import { ArchwayMetrics, timedCalls } from "../metrics/index.js";
import { createStore, RedisStore, type Store } from "../store/index.js";
import { IdentitySessions, KeyRing, loopSaturation, type Sealer, storeSealer, TokenService } from "../tokens/index.js";
import type { CliIO } from "./command.js";

/** The dependency graph every long-running command shares, built once from the configuration. */
export interface Runtime {
  loaded: LoadedConfig;
  log: Logger;
  store: Store;
  sources: IdentitySource[];
  audit: Audit;
  keys: KeyRing;
  tokens: TokenService;
  /** Login sessions (the `sid` of tokens and grants); the token service checks their end on every use. */
  sessions: IdentitySessions;
  /** Seals secrets the store keeps (signing keys, brokered Keystone tokens), from `secrets.storeKey`. */
  sealer: Sealer;
  /** The process's metrics registry: every part counts into it, `/metrics` renders it. */
  metrics: ArchwayMetrics;
  /** Externally visible base URL (config `publicUrl`, else the listen address); the token issuer. */
  publicUrl: string;
  /** Closes what was opened, in reverse order. */
  close(): Promise<void>;
}

/** Loads the config and builds logger, store and identity sources. */
export function buildRuntime(
  configFile: string,
  io: CliIO,
  opts: { logDestination?: LoggerOptions["destination"] } = {},
): Runtime {
  const loaded = loadConfig(configFile, { env: io.env, cwd: io.cwd });
  const log = createLogger({
    level: loaded.config.log.level,
    secrets: loaded.secrets,
    destination: opts.logDestination,
  });
  const { config } = loaded;
  const metrics = new ArchwayMetrics({
    cloudIds: () => config.clouds.map((c) => c.id),
    sourceIds: () => config.identity.sources.map((s) => s.id),
  });
  const store = createStore(config.store, { log, onSilentReconnect: () => metrics.silentReconnect("store") });
  metrics.watchStore(() => store.ping());
  const publicUrl = publicUrlOf(config);
  // Static sources are listed from this file: a reloaded process must not be undone by one still on the old file.
  // Every call to a source is timed (archway_identity_source_duration_seconds); the sources themselves are unchanged.
  const sources = createSources(config.identity.sources, {
    generation: configGeneration(loaded.file),
    store,
    publicUrl,
    // Why the directory refused (AD's disabled, expired, locked...): the person is never told, the operator is.
    onLoginRefused: (source, r) =>
      log.info({ source, username: r.username, reason: r.reason, code: r.code }, "login refused"),
  }).map((s) =>
    timedCalls(s, SOURCE_OPERATIONS, (operation, ok, seconds) => metrics.sourceCall(s.id, operation, ok, seconds)),
  );
  const audit = createAudit({ store, log });
  // A Redis that lost its data while Archway ran logged everyone out: an incident for the audit trail too.
  if (store instanceof RedisStore) store.onIncident((incident) => void audit({ ...incident }));
  const sealer = storeSealer(config.secrets);
  if (!sealer.enabled && store.kind === "redis")
    log.warn("no secrets.storeKey (nor shadowPasswordKey): signing keys and Keystone tokens sit in Redis unsealed");
  const keys = new KeyRing({
    store,
    sealer,
    algorithm: config.signing.algorithm,
    additionalAlgorithms: config.signing.additionalAlgorithms,
    rotateAfterMs: config.signing.rotateAfterSeconds * 1000,
    overlapMs: config.signing.overlapSeconds * 1000,
    source: config.signing.keys,
    dir: config.signing.dir,
  });
  // Signatures leave the event loop while requests queue behind them (see loopSaturation).
  const sessions = new IdentitySessions({
    store,
    audit,
    absoluteMs: config.sessions.absoluteSeconds * 1000,
    idleMs: config.sessions.idleSeconds * 1000,
  });
  const tokens = new TokenService({
    store,
    keys,
    issuer: publicUrl,
    audit,
    offloadSigning: loopSaturation(),
    sessions,
    metrics,
  });
  return {
    loaded,
    log,
    store,
    sources,
    audit,
    keys,
    tokens,
    sessions,
    sealer,
    metrics,
    publicUrl,
    async close() {
      await Promise.allSettled(sources.map((s) => s.close()));
      await store.close();
      log.flush();
    },
  };
}

/** The identity source calls timed by the metrics: sign-ins, lookups, listings, SSO steps, readiness pings. */
const SOURCE_OPERATIONS = ["login", "lookup", "list", "accounts", "completeLogin", "refresh", "ping"] as const;

/** When the configuration file last changed (ms), or undefined when it cannot be read. */
export function configGeneration(file: string): number | undefined {
  try {
    return Math.floor(statSync(file).mtimeMs);
  } catch {
    return undefined;
  }
}
