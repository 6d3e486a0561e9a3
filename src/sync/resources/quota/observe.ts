import { ArchwayError, isArchwayError } from "../../../errors.js";
import { mapLimit } from "../../../openstack/index.js";
import { QUOTA_RESOURCES, QUOTA_SERVICES, type QuotaService, type Quotas } from "../../../policy/index.js";
import { ProjectMap } from "../../project-ref.js";
import type { ObserveContext } from "../../resource.js";
import { projects } from "../project/index.js";
import type { ProjectQuotas, QuotaSlice, ServiceQuotas } from "./index.js";
import { quotaMarks } from "./mark.js";
import { configNameOf, quotaStoreOf, SERVICE_TYPES } from "./names.js";

/** A slice with nothing read (just-in-time runs, clouds without quotas). */
export function emptyQuotaSlice(): QuotaSlice {
  return { projects: new ProjectMap(), unavailable: {}, registered: {}, serviceIds: {} };
}

/** The services a quota set names at least one limit of. */
export function servicesOf(q: Quotas | undefined): QuotaService[] {
  if (!q) return [];
  return QUOTA_SERVICES.filter((s) => {
    const limits: Record<string, number | undefined> | undefined = q[s];
    return limits !== undefined && Object.values(limits).some((v) => v !== undefined);
  });
}

/**
 * Reads the limits of the owned projects that policies give quotas, and of those Archway set quotas on before (its
 * tags say so): one read per project and service, only those. Nothing at all in just-in-time runs (they plan no
 * quotas) or when no project has quotas. A service the cloud cannot serve (missing from the catalog, no Keystone
 * service for unified limits) is recorded as unavailable, with the reason: a plan problem, never a crash.
 */
export async function observeQuotas(ctx: ObserveContext): Promise<QuotaSlice> {
  const out = emptyQuotaSlice();
  if (ctx.opts.people) return out;
  const observed = await ctx.slice(projects);
  const wanted = new ProjectMap<Set<QuotaService>>();
  const needed = new Set<QuotaService>();
  for (const p of ctx.input.desired.projects) {
    const services = servicesOf(p.quotas);
    for (const s of services) needed.add(s);
    if (services.length > 0 && observed.get(p)?.owned) wanted.set(p, new Set(services));
  }
  for (const [ref, seen] of observed.entries()) {
    if (!seen.owned) continue;
    for (const s of Object.keys(quotaMarks(seen.tags)) as QuotaService[]) {
      needed.add(s);
      const set = wanted.get(ref) ?? new Set<QuotaService>();
      set.add(s);
      wanted.set(ref, set);
    }
  }
  if (needed.size === 0) return out;
  await Promise.all(
    [...needed].map(async (s) => {
      try {
        await checkService(ctx, s, out);
      } catch (err) {
        out.unavailable[s] = messageOf(err);
      }
    }),
  );
  await mapLimit([...wanted.entries()], ctx.clients.limiter.max, async ([ref, services]) => {
    const id = observed.get(ref)?.id;
    if (!id) return;
    // A project's services at once (they are different APIs): one round trip per project, not one per service.
    // The cloud's limiter still bounds what is in flight.
    const read: ProjectQuotas = {};
    await Promise.all(
      [...services]
        .filter((s) => !out.unavailable[s])
        .map(async (s) => {
          read[s] = await readService(ctx, id, s, out).catch(
            (err): ServiceQuotas => ({ status: "unavailable", error: messageOf(err) }),
          );
        }),
    );
    out.projects.set(ref, read);
  });
  return out;
}

/** Whether the cloud can take `service`'s quotas; for unified limits, also its service id and registered limits. */
async function checkService(ctx: ObserveContext, service: QuotaService, out: QuotaSlice): Promise<void> {
  const { cloud } = ctx.input;
  if (quotaStoreOf(cloud, service) === "service") {
    const where = { interface: cloud.interface, region: cloud.region };
    const ks = ctx.clients.keystone;
    await ks.endpoint(SERVICE_TYPES[service], where).catch((err) =>
      // Cinder's newer type name, as the quota client looks it up.
      service === "volume" && isArchwayError(err) && err.code === "endpoint_not_found"
        ? ks.endpoint("block-storage", where)
        : Promise.reject(err),
    );
    return;
  }
  const limits = ctx.clients.limits();
  const serviceId = await limits.serviceId(SERVICE_TYPES[service]);
  out.serviceIds[service] = serviceId;
  const registered: Record<string, { region: string | null; value: number }> = {};
  for (const r of await limits.listRegisteredLimits({ serviceId })) {
    const name = configNameOf(service, r.resource_name);
    if (!name || !inRegion(r.region_id, cloud.region)) continue;
    // A default of this cloud's region wins over one without a region.
    if (registered[name]?.region && !r.region_id) continue;
    registered[name] = { region: r.region_id ?? null, value: r.default_limit };
  }
  out.registered[service] = registered;
}

async function readService(
  ctx: ObserveContext,
  projectId: string,
  service: QuotaService,
  slice: QuotaSlice,
): Promise<ServiceQuotas> {
  const { cloud } = ctx.input;
  if (quotaStoreOf(cloud, service) === "service") {
    const all = await ctx.clients.quotas()[service].get(projectId);
    const limits: Record<string, number> = {};
    for (const name of QUOTA_RESOURCES[service]) if (all[name] !== undefined) limits[name] = all[name];
    return { status: "ok", limits };
  }
  const serviceId = slice.serviceIds[service];
  if (!serviceId) throw new ArchwayError("sync_unresolved", `no Keystone service for ${service}`, 409);
  const limits: Record<string, number> = {};
  for (const [name, r] of Object.entries(slice.registered[service] ?? {})) limits[name] = r.value;
  const limitIds: Record<string, string> = {};
  const regional = new Set<string>();
  for (const l of await ctx.clients.limits().listLimits({ projectId, serviceId })) {
    const name = configNameOf(service, l.resource_name);
    if (!name || !inRegion(l.region_id, cloud.region) || (regional.has(name) && !l.region_id)) continue;
    if (l.region_id) regional.add(name);
    limits[name] = l.resource_limit;
    limitIds[name] = l.id;
  }
  return { status: "ok", limits, limitIds };
}

/** A limit without a region applies everywhere; one with a region only there. */
function inRegion(region: string | null | undefined, cloudRegion: string | undefined): boolean {
  return !region || !cloudRegion || region === cloudRegion;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
