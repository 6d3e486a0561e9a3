import type { Cloud } from "../config/index.js";
import { type CloudClients, mapLimit, type Project, type QuotaUsage } from "../openstack/index.js";
import { QUOTA_RESOURCES, QUOTA_SERVICES, type QuotaService } from "../policy/index.js";
import { PROJECT_TAG } from "../sync/index.js";
import { fromUnifiedNames, SERVICE_TYPES, usesUnifiedLimits } from "./names.js";

/** One service's quotas of one project: limits and usage by resource, or why they could not be read. */
export type ServiceReport = { status: "ok"; resources: QuotaUsage } | { status: "unavailable"; error: string };

/** One Archway-owned project of one cloud. */
export interface ProjectReport {
  id: string;
  name: string;
  /** The project's Keystone domain, by name (its id when the name could not be read). */
  domain: string;
  services: Record<QuotaService, ServiceReport>;
}

/** One cloud: its owned projects, or why it could not be read (a cloud that is down is never an error here). */
export interface CloudReport {
  cloud: string;
  backend: Cloud["quotaBackend"];
  status: "ok" | "unavailable";
  error?: string;
  projects: ProjectReport[];
}

/** Sums per service and resource; a limit of -1 (unlimited) anywhere makes the sum -1. */
export type QuotaTotals = Record<QuotaService, QuotaUsage>;

/** The same project (domain and name, kept apart) summed over the clouds that hold it. */
export interface ProjectTotals {
  domain: string;
  name: string;
  clouds: string[];
  totals: QuotaTotals;
}

/** What `archway quota report` prints. */
export interface QuotaReport {
  clouds: CloudReport[];
  /** Every owned project of every cloud that answered. */
  totals: QuotaTotals;
  /** Per project across clouds, ordered by domain then name. */
  projects: ProjectTotals[];
}

/** Reads the limits and usage of every Archway-owned project of one cloud (projects `concurrency` at a time). */
export async function reportCloud(clients: CloudClients, opts: { concurrency?: number } = {}): Promise<CloudReport> {
  const { cloud } = clients;
  const base = { cloud: cloud.id, backend: cloud.quotaBackend };
  let projects: Project[];
  let domains: Map<string, string>;
  try {
    [projects, domains] = await Promise.all([
      clients.keystone.listProjects({ tags: [PROJECT_TAG] }),
      clients.keystone.listDomains().then((ds) => new Map(ds.map((d) => [d.id, d.name]))),
    ]);
  } catch (err) {
    return { ...base, status: "unavailable", error: messageOf(err), projects: [] };
  }
  const reports = await mapLimit(projects, opts.concurrency ?? 4, async (project) => {
    const services = {} as Record<QuotaService, ServiceReport>;
    for (const service of QUOTA_SERVICES) services[service] = await readService(clients, project.id, service);
    return {
      id: project.id,
      name: project.name,
      domain: domains.get(project.domain_id) ?? project.domain_id,
      services,
    };
  });
  return { ...base, status: "ok", projects: reports };
}

async function readService(clients: CloudClients, projectId: string, service: QuotaService): Promise<ServiceReport> {
  try {
    const usage = await clients.quotas()[service].usage(projectId);
    const resources: QuotaUsage = {};
    for (const name of QUOTA_RESOURCES[service]) {
      const entry = usage[name];
      if (entry) resources[name] = entry;
    }
    if (clients.cloud.quotaBackend === "unified-limits" && usesUnifiedLimits(service)) {
      // The limits are Keystone's; the usage is still counted by the service.
      const limits = clients.limits();
      const serviceId = await limits.serviceId(SERVICE_TYPES[service]);
      const unified = fromUnifiedNames(
        service,
        await limits.effectiveLimits(projectId, serviceId, clients.cloud.region),
      );
      for (const [name, limit] of Object.entries(unified))
        resources[name] = { limit, inUse: resources[name]?.inUse ?? 0 };
    }
    return { status: "ok", resources };
  } catch (err) {
    return { status: "unavailable", error: messageOf(err) };
  }
}

/** Adds `usage` into `into`: in-use counts add up, limits too unless either side is unlimited (-1). */
export function addUsage(into: QuotaUsage, usage: QuotaUsage): void {
  for (const [name, entry] of Object.entries(usage)) {
    const cur = into[name];
    if (!cur) into[name] = { ...entry };
    else
      into[name] = {
        limit: cur.limit < 0 || entry.limit < 0 ? -1 : cur.limit + entry.limit,
        inUse: cur.inUse + entry.inUse,
      };
  }
}

/** The entry of (domain, name), made when missing. */
function projectTotals(
  byProject: Map<string, Map<string, ProjectTotals>>,
  domain: string,
  name: string,
): ProjectTotals {
  const inDomain = byProject.get(domain) ?? new Map<string, ProjectTotals>();
  byProject.set(domain, inDomain);
  const one = inDomain.get(name) ?? { domain, name, clouds: [], totals: emptyTotals() };
  inDomain.set(name, one);
  return one;
}

function emptyTotals(): QuotaTotals {
  return { compute: {}, volume: {}, network: {} };
}

/** Totals over every readable service of every project of every cloud that answered, and per project name. */
export function summarize(clouds: CloudReport[]): QuotaReport {
  const totals = emptyTotals();
  // Nested maps: a domain or project name containing any separator must not collide with another.
  const byProject = new Map<string, Map<string, ProjectTotals>>();
  for (const cloud of clouds) {
    for (const project of cloud.projects) {
      const one = projectTotals(byProject, project.domain, project.name);
      one.clouds.push(cloud.cloud);
      for (const service of QUOTA_SERVICES) {
        const report = project.services[service];
        if (report.status !== "ok") continue;
        addUsage(totals[service], report.resources);
        addUsage(one.totals[service], report.resources);
      }
    }
  }
  const projects = [...byProject.values()]
    .flatMap((m) => [...m.values()])
    .sort((a, b) => compare(a.domain, b.domain) || compare(a.name, b.name));
  return { clouds, totals, projects };
}

/** Reads every cloud in parallel and sums them; never throws for a cloud that is down. */
export async function quotaReport(clients: readonly CloudClients[]): Promise<QuotaReport> {
  return summarize(await Promise.all(clients.map((c) => reportCloud(c))));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
