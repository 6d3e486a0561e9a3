import type { Store } from "../store/index.js";
import type { CloudSyncStatus } from "./status.js";

/**
 * Sync history for the admin chart: per hour, how many runs started, how many cloud runs ended, how many changes
 * they applied and how many of them failed. Counters in the store (atomic, shared by every worker), one set per
 * hour, each expiring after {@link HISTORY_DAYS}: the history stays bounded whatever the fleet size or run rate.
 */
export const HISTORY_DAYS = 14;
const HOUR_MS = 3600_000;
const TTL_MS = HISTORY_DAYS * 24 * HOUR_MS;
/** A run's marker lives only while its hour can still be written to. */
const MARKER_TTL_MS = 2 * HOUR_MS;

/** The counters of one hour. */
export const HISTORY_SERIES = ["runs", "cloudRuns", "changes", "failures"] as const;
export type HistorySeries = (typeof HISTORY_SERIES)[number];

/** One hour of history; `start` is the hour's first millisecond. */
export interface HistoryBucket extends Record<HistorySeries, number> {
  start: number;
}

const hourOf = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;
const bucketKey = (hour: number, series: HistorySeries | `run:${string}`) =>
  `sync:history:${new Date(hour).toISOString().slice(0, 13)}:${series}`;

/**
 * Counts one cloud run that just ended, from the status update its engine wrote: a run (once per run id per hour),
 * a cloud run, the operations applied, and a failure when the run ended in an error (failed, refused, unreachable)
 * or some operations failed. An update without a run id (not a run's) is not counted.
 */
export async function recordCloudRun(
  store: Store,
  update: Partial<CloudSyncStatus> & { cloudId: string },
  now = Date.now(),
): Promise<void> {
  if (!update.lastRunId) return;
  const hour = hourOf(update.lastRunAt ? Date.parse(update.lastRunAt) || now : now);
  const failed =
    (update.lastErrorAt !== undefined && update.lastErrorAt === update.lastRunAt) || (update.failed ?? 0) > 0;
  const first = await store.setIfAbsent(bucketKey(hour, `run:${update.lastRunId}`), "1", { ttlMs: MARKER_TTL_MS });
  await store.addToCounters([
    ...(first ? [{ key: bucketKey(hour, "runs"), by: 1, ttlMs: TTL_MS }] : []),
    { key: bucketKey(hour, "cloudRuns"), by: 1, ttlMs: TTL_MS },
    ...((update.applied ?? 0) > 0 ? [{ key: bucketKey(hour, "changes"), by: update.applied ?? 0, ttlMs: TTL_MS }] : []),
    ...(failed ? [{ key: bucketKey(hour, "failures"), by: 1, ttlMs: TTL_MS }] : []),
  ]);
}

/** The last `hours` hours of history, oldest first (at most {@link HISTORY_DAYS} days; hours with nothing are 0). */
export async function readHistory(store: Store, hours: number, now = Date.now()): Promise<HistoryBucket[]> {
  const count = Math.max(1, Math.min(Math.floor(hours), HISTORY_DAYS * 24));
  const last = hourOf(now);
  const starts = Array.from({ length: count }, (_, i) => last - (count - 1 - i) * HOUR_MS);
  return Promise.all(
    starts.map(async (start) => {
      const values = await Promise.all(HISTORY_SERIES.map((s) => store.get(bucketKey(start, s))));
      const bucket = { start } as HistoryBucket;
      HISTORY_SERIES.forEach((s, i) => {
        bucket[s] = Number(values[i] ?? 0) || 0;
      });
      return bucket;
    }),
  );
}
