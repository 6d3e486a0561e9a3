import type { AuditEvent } from "../audit/index.js";
import { type Cloud, type Config, publicUrlOf } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import { type EnumerableSource, type IdentitySource, isEnumerableSource } from "../identity/index.js";
import type { Logger } from "../log/index.js";
import type { ArchwayMetrics } from "../metrics/index.js";
import { type CloudClientOptions, type CloudClients, createCloudClients } from "../openstack/index.js";
import type { CompiledPolicySet } from "../policy/index.js";
import type { Store } from "../store/index.js";
import { BullSyncQueue, bullConnection } from "./bullmq.js";
import { SyncEngine } from "./engine.js";
import { ownershipOf } from "./ownership.js";
import { InProcessQueue, type SyncQueue } from "./queue.js";
import { ImageDistributor } from "./resources/image/index.js";
import { engineHandler, SyncService } from "./service.js";

/** What {@link createSync} builds. */
export interface SyncParts {
  engine: SyncEngine;
  service: SyncService;
  queue: SyncQueue;
  clients: (cloud: Cloud) => CloudClients;
  close(): Promise<void>;
}

/** Inputs of {@link createSync}: the configuration and the shared services of the runtime. */
export interface SyncBuildDeps {
  config: Config;
  store: Store;
  audit: (event: AuditEvent) => Promise<void> | void;
  sources: readonly IdentitySource[];
  policies: () => CompiledPolicySet;
  /** `inline`: run jobs in this process; `shared`: submit them to BullMQ for `archway worker` processes. */
  queue: "inline" | "shared";
  clientOptions?: CloudClientOptions;
  onProgress?: (cloudId: string, done: number, total: number) => void;
  /** Shared queue only: how long a submitter waits for a job's result before reporting it failed (15 min). */
  queueWaitMs?: number;
  now?: () => Date;
  /** Where the shared queue's Redis errors go. */
  log?: Logger;
  /** The process's metrics: sync runs and operations, calls to the clouds, the queue's depth. */
  metrics?: ArchwayMetrics;
}

const NO_JOBS = { waiting: 0, active: 0, failed: 0 };

/** The shadow password key, or an actionable error when sync cannot run without it. */
export function passwordSecret(config: Config): string {
  const secret = config.secrets.shadowPasswordKey;
  if (!secret) {
    throw new ArchwayError(
      "config_missing_secret",
      "sync needs secrets.shadowPasswordKey (e.g. ${env:ARCHWAY_SHADOW_KEY}) to derive shadow user passwords",
      500,
    );
  }
  return secret;
}

/** Builds clients (one per cloud, cached), the engine, the queue and the triggers from the configuration. */
export function createSync(deps: SyncBuildDeps): SyncParts {
  const { config } = deps;
  const cache = new Map<string, CloudClients>();
  const clients = (cloud: Cloud) => {
    let c = cache.get(cloud.id);
    if (!c) {
      const metrics = deps.metrics;
      c = createCloudClients(cloud, {
        ...(metrics
          ? { onRequest: (e) => metrics.upstream(e.cloudId, e.service, e.method, e.status, e.ms / 1000) }
          : {}),
        ...deps.clientOptions,
      });
      cache.set(cloud.id, c);
    }
    return c;
  };
  const transfers = config.sync.images;
  const images = new ImageDistributor({
    store: deps.store,
    clients: (cloudId) => {
      const cloud = config.clouds.find((c) => c.id === cloudId);
      if (!cloud) throw new ArchwayError("cloud_unknown", `no cloud '${cloudId}' in the configuration`, 404);
      return clients(cloud);
    },
    transfers: {
      concurrencyPerCloud: transfers.concurrencyPerCloud,
      concurrencyTotal: transfers.concurrencyTotal,
      caps: {
        ...(transfers.bandwidthPerCloud ? { perCloud: transfers.bandwidthPerCloud } : {}),
        ...(transfers.bandwidthTotal ? { total: transfers.bandwidthTotal } : {}),
      },
    },
    now: deps.now,
  });
  const engine = new SyncEngine({
    images,
    clouds: config.clouds,
    clients,
    store: deps.store,
    audit: deps.audit,
    passwordSecret: passwordSecret(config),
    keyVersion: config.sync.keyVersion,
    ownership: ownershipOf(config),
    graceMs: config.sync.disableGraceSeconds * 1000,
    maxDeletes: config.sync.maxDeletesPerRun,
    issuer: publicUrlOf(config),
    now: deps.now,
    metrics: deps.metrics,
  });
  const retry = { attempts: 3, backoffMs: 2_000 };
  const queue: SyncQueue =
    deps.queue === "shared"
      ? new BullSyncQueue(bullConnection(config.store, deps.log), { retry, waitMs: deps.queueWaitMs })
      : new InProcessQueue(engineHandler(engine, { onProgress: deps.onProgress }), {
          concurrency: config.sync.concurrency,
          retry,
        });
  if (deps.metrics && queue.depth) deps.metrics.watchQueue(() => queue.depth?.() ?? Promise.resolve(NO_JOBS));
  const sources = deps.sources.filter((s): s is EnumerableSource => isEnumerableSource(s));
  const service = new SyncService({
    engine,
    queue,
    clouds: config.clouds,
    policies: deps.policies,
    sources,
    store: deps.store,
    concurrency: config.sync.concurrency,
  });
  return {
    engine,
    service,
    queue,
    clients,
    async close() {
      await queue.close();
      await Promise.all([...cache.values()].map((c) => c.close()));
    },
  };
}
