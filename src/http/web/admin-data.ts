import { readFileSync } from "node:fs";
import { Agent } from "undici";
import { readAudit } from "../../audit/index.js";
import type { Cloud } from "../../config/index.js";
import { ArchwayError } from "../../errors.js";
import { mapLimit } from "../../openstack/index.js";
import { type Explanation, explain } from "../../policy/index.js";
import { type CloudSyncStatus, readStatus, type SavedPlan } from "../../sync/index.js";
import { type FleetCloud, type FleetQuery, type FleetView, fleetState, fleetView } from "./admin-fleet.js";
import type { WebDeps } from "./deps.js";

/** One cloud on the dashboard: live Keystone reachability and the stored sync status. */
export interface CloudHealth {
  cloudId: string;
  name: string;
  mode: Cloud["mode"];
  reachable: boolean;
  detail?: string;
  status: CloudSyncStatus | null;
}

/** Probes every cloud's Keystone (one GET of its `/v3`, 3 s at most) and reads its sync status. */
export async function cloudHealth(deps: Pick<WebDeps, "clouds" | "store">): Promise<CloudHealth[]> {
  return Promise.all(deps.clouds.map(async (cloud) => probe(cloud, await readStatus(deps.store, cloud.id))));
}

/**
 * The fleet overview: every cloud's state from its stored status (no live call, so 1,000 clouds cost 1,000 store
 * reads), filtered and paged; only the clouds of the shown page are probed live.
 */
export async function fleetOverview(
  deps: Pick<WebDeps, "clouds" | "store">,
  query: FleetQuery,
): Promise<FleetView & { health: CloudHealth[] }> {
  const clouds = await mapLimit([...deps.clouds], 64, async (cloud): Promise<FleetCloud> => {
    const status = await readStatus(deps.store, cloud.id);
    return { cloud, status, state: fleetState(status) };
  });
  const view = fleetView(clouds, query);
  const health = await Promise.all(view.page.map((c) => probe(c.cloud, c.status)));
  return { ...view, health };
}

async function probe(cloud: Cloud, status: CloudSyncStatus | null): Promise<CloudHealth> {
  const base = { cloudId: cloud.id, name: cloud.name ?? cloud.id, mode: cloud.mode, status };
  const dispatcher = cloud.caFile ? new Agent({ connect: { ca: readFileSync(cloud.caFile) } }) : undefined;
  try {
    const res = await fetch(cloud.authUrl, {
      signal: AbortSignal.timeout(3_000),
      ...(dispatcher ? { dispatcher } : {}),
    } as RequestInit);
    await res.body?.cancel();
    return res.status < 500
      ? { ...base, reachable: true }
      : { ...base, reachable: false, detail: `HTTP ${res.status}` };
  } catch (err) {
    // undici says "fetch failed" and keeps the reason (ECONNREFUSED, a timeout) in the cause.
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
    return { ...base, reachable: false, detail: cause?.code ?? cause?.message ?? (err as Error).message };
  } finally {
    await dispatcher?.close();
  }
}

/** A plan in the shape pages and `/api/v1/admin/plan` show. */
export interface PlanView {
  /** The saved plan's id: what "Apply" applies, exactly (absent for a plan that was only computed). */
  planId?: string;
  /** When the plan was made (ISO). */
  createdAt?: string;
  clouds: {
    cloudId: string;
    error?: string;
    counts: Record<string, number>;
    problems: string[];
    /** Projects this deployment created that no policy grants any more (kept, never deleted). */
    orphans: string[];
    /** More deletions than maxDeletesPerRun.perCloud: applying refuses this cloud. */
    overDeleteLimit?: boolean;
    operations: { action: string; text: string; policies: string[] }[];
  }[];
  total: number;
}

/**
 * The sync plan for review: computed now (everyone, every cloud; nothing written to the clouds) and saved, so that
 * applying it applies exactly this plan by its id ({@link applyReviewedPlan}), never a recomputed one.
 */
export async function reviewPlan(deps: Pick<WebDeps, "sync">): Promise<PlanView> {
  return planView(await needSync(deps).service.savePlan());
}

/** A plan saved earlier (by the page, the API or `archway sync plan`), as it was made; null once it expired. */
export async function savedPlanView(deps: Pick<WebDeps, "sync">, planId: string): Promise<PlanView | null> {
  const saved = await needSync(deps).service.savedPlan(planId);
  return saved ? planView(saved) : null;
}

/** The page's view of a saved plan: its clouds (unavailable ones with their reason) by id. */
export function planView(saved: SavedPlan): PlanView {
  const clouds: PlanView["clouds"] = [
    ...saved.clouds.map((c) => ({
      cloudId: c.cloudId,
      counts: c.counts,
      problems: c.problems,
      orphans: c.orphans,
      overDeleteLimit: c.overDeleteLimit,
      operations: c.operations,
    })),
    ...saved.unavailable.map((u) => ({
      cloudId: u.cloudId,
      error: u.reason,
      counts: {},
      problems: [],
      orphans: [],
      operations: [],
    })),
  ].sort((a, b) => (a.cloudId < b.cloudId ? -1 : 1));
  return {
    planId: saved.id,
    createdAt: saved.createdAt,
    clouds,
    total: clouds.reduce((n, c) => n + c.operations.length, 0),
  };
}

/** Applies a reviewed plan by its id; a plan that expired (a day) or never existed is refused with 409. */
export async function applyReviewedPlan(deps: Pick<WebDeps, "sync">, planId: string) {
  const sync = needSync(deps);
  const saved = await sync.service.savedPlan(planId);
  if (!saved) {
    throw new ArchwayError(
      "sync_plan_expired",
      `plan ${planId} is not known (plans are kept a day): review the plan again before applying`,
      409,
    );
  }
  return sync.service.applySaved(saved);
}

function needSync(deps: Pick<WebDeps, "sync">): NonNullable<WebDeps["sync"]> {
  if (!deps.sync) throw new ArchwayError("sync_unavailable", "sync needs secrets.shadowPasswordKey", 503);
  return deps.sync;
}

/** Filters of the audit log. */
export interface AuditFilter {
  type?: string;
  actor?: string;
  cloud?: string;
  /** Any text in the event (policy names, projects, reasons). */
  text?: string;
  limit?: number;
}

/** The newest audit events matching `filter`, newest first (looks at the last 2,000 events). */
export async function auditEvents(
  deps: Pick<WebDeps, "store">,
  filter: AuditFilter,
): Promise<{ id: string; data: Record<string, unknown> }[]> {
  const entries = await readAudit(deps.store, { limit: 2_000 });
  const has = (v: unknown, want?: string) =>
    !want ||
    String(v ?? "")
      .toLowerCase()
      .includes(want.toLowerCase());
  return entries
    .filter(
      (e) =>
        has(e.data.type, filter.type) &&
        has(e.data.actor, filter.actor) &&
        has(e.data.cloud, filter.cloud) &&
        has(JSON.stringify(e.data), filter.text),
    )
    .reverse()
    .slice(0, filter.limit ?? 200);
}

/** Looks a person up (in `source`, or the first lookup source that knows them) and explains their access. */
export async function explainPerson(
  deps: Pick<WebDeps, "lookupSources" | "policies" | "keys">,
  username: string,
  opts: { source?: string; cloudId?: string } = {},
): Promise<Explanation | null> {
  const sources = opts.source ? deps.lookupSources.filter((s) => s.id === opts.source) : deps.lookupSources;
  for (const source of sources) {
    const identity = await source.lookup(username);
    if (identity) return explain(await deps.keys.merge(identity), deps.policies(), { cloudId: opts.cloudId });
  }
  return null;
}
