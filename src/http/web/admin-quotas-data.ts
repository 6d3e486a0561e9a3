import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import { mapLimit } from "../../openstack/index.js";
import { QUOTA_SERVICES, type QuotaService } from "../../policy/index.js";
import {
  addUsage,
  type CloudReport,
  type ProjectReport,
  type ProjectTotals,
  type QuotaReport,
  type QuotaTotals,
  summarize,
} from "../../quota/index.js";

/** How long a quota report is served before the clouds are read again on the next view. */
export const QUOTA_REPORT_MAX_AGE_MS = 60_000;
/** "Read again" is honoured only for a report older than this: a held-down button does not sweep 1,000 clouds. */
export const QUOTA_REFRESH_MIN_AGE_MS = 10_000;

/** Every cloud's part of the report and when it was read (ms since the epoch). */
export interface ReadQuotas {
  clouds: CloudReport[];
  readAt: number;
}

/** What {@link QuotaReports} needs. */
export interface QuotaReportsDeps {
  clouds: () => readonly Cloud[];
  /** One cloud's report (`reportCloud` with the shared clients); must not throw for a cloud that is down. */
  readCloud: (cloud: Cloud) => Promise<CloudReport>;
  /** Clouds read at once (default 64: the reads wait on the network, and a cloud known down is refused at once). */
  concurrency?: number;
  /** A cloud that has not answered in this long is reported unavailable (default 15 s): one slow cloud never holds the page. */
  cloudDeadlineMs?: number;
  maxAgeMs?: number;
  refreshMinAgeMs?: number;
  now?: () => number;
}

/**
 * The quota report of the admin page and `/api/v1/admin/quotas`, kept in this process for a minute: reading the
 * quotas of 1,000 clouds (a Keystone listing plus three services per owned project) is never done per view.
 * Concurrent views while a read is under way share it. Each process keeps its own copy (the report of a large
 * fleet is megabytes; the store is not the place for it).
 */
export class QuotaReports {
  readonly #deps: QuotaReportsDeps;
  #current: ReadQuotas | undefined;
  #pending: Promise<ReadQuotas> | undefined;

  constructor(deps: QuotaReportsDeps) {
    this.#deps = deps;
  }

  /** The kept report, or a fresh one when it is older than a minute (`refresh`: older than 10 s). */
  read(opts: { refresh?: boolean } = {}): Promise<ReadQuotas> {
    const now = (this.#deps.now ?? Date.now)();
    const maxAge = opts.refresh
      ? (this.#deps.refreshMinAgeMs ?? QUOTA_REFRESH_MIN_AGE_MS)
      : (this.#deps.maxAgeMs ?? QUOTA_REPORT_MAX_AGE_MS);
    const current = this.#current;
    if (current && now - current.readAt < maxAge) return Promise.resolve(current);
    this.#pending ??= this.#readAll().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #readAll(): Promise<ReadQuotas> {
    const clouds = await mapLimit([...this.#deps.clouds()], this.#deps.concurrency ?? 64, (cloud) =>
      this.#readOne(cloud),
    );
    const read = { clouds, readAt: (this.#deps.now ?? Date.now)() };
    this.#current = read;
    return read;
  }

  async #readOne(cloud: Cloud): Promise<CloudReport> {
    const ms = this.#deps.cloudDeadlineMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<CloudReport>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            cloud: cloud.id,
            backend: cloud.quotaBackend,
            status: "unavailable",
            error: `did not answer in ${ms / 1000} s`,
            projects: [],
          }),
        ms,
      );
      timer.unref();
    });
    try {
      return await Promise.race([
        this.#deps.readCloud(cloud).catch(
          (err: unknown): CloudReport => ({
            cloud: cloud.id,
            backend: cloud.quotaBackend,
            status: "unavailable",
            error: err instanceof Error ? err.message : String(err),
            projects: [],
          }),
        ),
        late,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The filters of `/admin/quotas` and `/api/v1/admin/quotas`. */
export const QuotaQuerySchema = z.object({
  /** A cloud id: only that cloud (its projects, its totals). */
  cloud: z.string().max(100).optional().catch(undefined),
  /** Part of a project name (any case). */
  project: z.string().max(200).optional().catch(undefined),
  page: z.coerce.number().int().min(1).max(100_000).catch(1).default(1),
  /** `1`: read the clouds again unless the kept report is younger than 10 s. */
  refresh: z.literal("1").optional().catch(undefined),
});
export type QuotaQuery = z.infer<typeof QuotaQuerySchema>;

/** One service of one project in one cloud: a row of the page's tables. */
export interface QuotaCell {
  cloud: string;
  report: ProjectReport["services"][QuotaService];
}

/** One project (domain and name) across the clouds that hold it, with its per-cloud rows. */
export interface ProjectQuotas extends ProjectTotals {
  /** Per service, one row per cloud that holds the project, in cloud order. */
  rows: Record<QuotaService, QuotaCell[]>;
}

/** What the page shows: the filtered report (as `archway quota report --json` would give it) and one page of it. */
export interface QuotaView {
  report: QuotaReport;
  unavailable: CloudReport[];
  /** Projects matching the filters, counted before paging. */
  matching: number;
  page: ProjectQuotas[];
  pageNumber: number;
  pages: number;
  /** The totals of the matching projects (the whole report's when no project filter is set). */
  totals: QuotaTotals;
}

/** The report of the clouds `query.cloud` names (all without it), as `archway quota report [--cloud]` makes it. */
export function filteredReport(clouds: readonly CloudReport[], query: Pick<QuotaQuery, "cloud">): QuotaReport {
  return summarize(query.cloud ? clouds.filter((c) => c.cloud === query.cloud) : [...clouds]);
}

/** Filters, groups and pages a report for the page (pure: clouds already read). */
export function quotaView(clouds: readonly CloudReport[], query: QuotaQuery, pageSize = 25): QuotaView {
  const report = filteredReport(clouds, query);
  const name = query.project?.trim().toLowerCase();
  const matching = name ? report.projects.filter((p) => p.name.toLowerCase().includes(name)) : report.projects;
  const pages = Math.max(1, Math.ceil(matching.length / pageSize));
  const pageNumber = Math.min(query.page, pages);
  // Nested maps by cloud, domain and name: no separator can make two projects collide.
  const byCloud = new Map<string, Map<string, Map<string, ProjectReport>>>();
  for (const cloud of report.clouds) {
    const domains = new Map<string, Map<string, ProjectReport>>();
    for (const p of cloud.projects) {
      const names = domains.get(p.domain) ?? new Map<string, ProjectReport>();
      names.set(p.name, p);
      domains.set(p.domain, names);
    }
    byCloud.set(cloud.cloud, domains);
  }
  const page = matching.slice((pageNumber - 1) * pageSize, pageNumber * pageSize).map((p): ProjectQuotas => {
    const rows = { compute: [], volume: [], network: [] } as Record<QuotaService, QuotaCell[]>;
    for (const cloud of p.clouds) {
      const project = byCloud.get(cloud)?.get(p.domain)?.get(p.name);
      if (!project) continue;
      for (const service of QUOTA_SERVICES) rows[service].push({ cloud, report: project.services[service] });
    }
    return { ...p, rows };
  });
  return {
    report,
    unavailable: report.clouds.filter((c) => c.status !== "ok"),
    matching: matching.length,
    page,
    pageNumber,
    pages,
    totals: name ? sumTotals(matching) : report.totals,
  };
}

function sumTotals(projects: readonly ProjectTotals[]): QuotaTotals {
  const totals: QuotaTotals = { compute: {}, volume: {}, network: {} };
  for (const p of projects) for (const service of QUOTA_SERVICES) addUsage(totals[service], p.totals[service]);
  return totals;
}
