import { Gauge, type Registry } from "prom-client";
import { z } from "zod";
import type { Store } from "../store/index.js";
import { getJson, setJson } from "../store/index.js";
import { recordCloudRun } from "./history.js";
import type { Action } from "./operations.js";

/** What `/metrics`, `/admin` and `archway sync status` know about one cloud's sync. */
export const CloudSyncStatusSchema = z.object({
  cloudId: z.string(),
  lastRunAt: z.string().optional(),
  lastRunId: z.string().optional(),
  lastSuccessAt: z.string().optional(),
  lastErrorAt: z.string().optional(),
  /** Why the last run failed or was refused (never a secret). */
  lastError: z.string().optional(),
  /** The cloud could not be read or written in the last run. */
  degraded: z.boolean().default(false),
  /** The last plan was refused by `maxDeletesPerRun`. */
  refused: z.boolean().default(false),
  /** Operations the last plan found, by action (0 everywhere once converged). */
  drift: z.record(z.string(), z.number()).default({}),
  applied: z.number().default(0),
  failed: z.number().default(0),
});
export type CloudSyncStatus = z.infer<typeof CloudSyncStatusSchema>;

const key = (cloudId: string) => `sync:status:${cloudId}`;

/** Reads one cloud's status (null before its first run). */
export async function readStatus(store: Store, cloudId: string): Promise<CloudSyncStatus | null> {
  return getJson(store, key(cloudId), CloudSyncStatusSchema);
}

/** Writes one cloud's status (merged over the previous one, so the last success survives a failure). */
export async function writeStatus(
  store: Store,
  update: Partial<CloudSyncStatus> & { cloudId: string },
): Promise<CloudSyncStatus> {
  const previous = await readStatus(store, update.cloudId);
  const next = CloudSyncStatusSchema.parse({ ...previous, ...update });
  await setJson(store, key(update.cloudId), next);
  // A run's end also goes into the bounded history the admin chart reads.
  await recordCloudRun(store, update);
  return next;
}

/** Drift counts of a plan, as stored in the status. */
export function driftOf(counts: Record<Action, number>): Record<string, number> {
  return { ...counts };
}

/**
 * Registers the sync gauges on `registry`; each scrape reads the statuses from the store, so any process
 * (the web server, a worker) reports what every worker did:
 * `archway_sync_degraded{cloud}`, `archway_sync_drift{cloud,action}`, `archway_sync_last_success_seconds{cloud}`.
 */
export function registerSyncMetrics(
  registry: Registry,
  deps: { store: Store; cloudIds: () => readonly string[] },
): void {
  // A store outage leaves these gauges empty for that scrape: /metrics itself must keep answering (issue 23).
  const statuses = async () =>
    (
      await Promise.all(deps.cloudIds().map((id) => readStatus(deps.store, id))).catch(
        (): (CloudSyncStatus | null)[] => [],
      )
    ).filter((s): s is CloudSyncStatus => s !== null);
  new Gauge({
    name: "archway_sync_degraded",
    help: "1 when the last sync of the cloud could not reach or change it",
    labelNames: ["cloud"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await statuses()) this.set({ cloud: s.cloudId }, s.degraded ? 1 : 0);
    },
  });
  new Gauge({
    name: "archway_sync_drift",
    help: "Operations the last sync plan found for the cloud, by action",
    labelNames: ["cloud", "action"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await statuses())
        for (const [action, n] of Object.entries(s.drift)) this.set({ cloud: s.cloudId, action }, n);
    },
  });
  new Gauge({
    name: "archway_sync_last_success_seconds",
    help: "Unix time of the last successful sync of the cloud",
    labelNames: ["cloud"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await statuses())
        if (s.lastSuccessAt) this.set({ cloud: s.cloudId }, Date.parse(s.lastSuccessAt) / 1000);
    },
  });
}
