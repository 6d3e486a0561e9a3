import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import type { CloudSyncStatus } from "../../sync/index.js";

/** A cloud's state on the fleet overview, from its stored sync status (no live probe: 1,000 clouds). */
export const FLEET_STATES = ["ok", "failing", "degraded", "refused", "never"] as const;
export type FleetState = (typeof FLEET_STATES)[number];

/** The filters of `/admin`, from its query string. */
export const FleetQuerySchema = z.object({
  name: z.string().max(200).optional(),
  state: z.enum(FLEET_STATES).optional().catch(undefined),
  /** `key=value` (value may be empty: any cloud that has the label). */
  label: z.string().max(200).optional(),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
});
export type FleetQuery = z.infer<typeof FleetQuerySchema>;

/** One cloud on the overview. */
export interface FleetCloud {
  cloud: Cloud;
  status: CloudSyncStatus | null;
  state: FleetState;
}

/** What the overview shows: counts of the whole fleet, the filtered clouds, and one page of them. */
export interface FleetView {
  counts: Record<FleetState, number>;
  total: number;
  /** Every cloud matching the filters, for the grid. */
  matching: FleetCloud[];
  /** The page of `matching` for the table. */
  page: FleetCloud[];
  pageNumber: number;
  pages: number;
}

/**
 * The state a status stands for, the worst first: `degraded` (the cloud could not be read or written), `refused`
 * (its plan was over maxDeletesPerRun), `failing` (some operations failed, or the last run ended in an error after
 * the last success), `ok`, or `never` synced.
 */
export function fleetState(status: CloudSyncStatus | null): FleetState {
  if (!status) return "never";
  if (status.degraded) return "degraded";
  if (status.refused) return "refused";
  const errorAfterSuccess = status.lastErrorAt && (!status.lastSuccessAt || status.lastErrorAt > status.lastSuccessAt);
  return status.failed > 0 || errorAfterSuccess ? "failing" : "ok";
}

/** Filters, counts and pages the fleet (pure: statuses already read). */
export function fleetView(clouds: readonly FleetCloud[], query: FleetQuery, pageSize = 50): FleetView {
  const counts = Object.fromEntries(FLEET_STATES.map((s) => [s, 0])) as Record<FleetState, number>;
  for (const c of clouds) counts[c.state]++;
  const name = query.name?.trim().toLowerCase();
  const [labelKey, labelValue] = splitLabel(query.label);
  const matching = clouds.filter(
    (c) =>
      (!name || c.cloud.id.toLowerCase().includes(name) || (c.cloud.name ?? "").toLowerCase().includes(name)) &&
      (!query.state || c.state === query.state) &&
      (!labelKey ||
        (c.cloud.labels[labelKey] !== undefined && (labelValue === "" || c.cloud.labels[labelKey] === labelValue))),
  );
  const pages = Math.max(1, Math.ceil(matching.length / pageSize));
  const pageNumber = Math.min(query.page, pages);
  return {
    counts,
    total: clouds.length,
    matching,
    page: matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize),
    pageNumber,
    pages,
  };
}

function splitLabel(label: string | undefined): [string, string] | [undefined, undefined] {
  const text = label?.trim();
  if (!text) return [undefined, undefined];
  const eq = text.indexOf("=");
  return eq < 0 ? [text, ""] : [text.slice(0, eq).trim(), text.slice(eq + 1).trim()];
}
