import { z } from "zod";
import { ArchwayError } from "../errors.js";
import { type KeystoneClient, query } from "./keystone.js";
import { listOf, oneOf } from "./keystone-schemas.js";
import {
  createdOne,
  type Limit,
  LimitModelReplySchema,
  LimitSchema,
  type QuotaLimits,
  type RegisteredLimit,
  RegisteredLimitSchema,
} from "./quota-schemas.js";

const ServiceSchema = z.looseObject({ id: z.string(), type: z.string(), name: z.string().optional() });

/** Filters of the limit lists; all optional. */
export interface LimitFilter {
  serviceId?: string;
  regionId?: string;
  resourceName?: string;
  projectId?: string;
}

const enc = encodeURIComponent;

/**
 * Keystone unified limits (`/v3/registered_limits`, `/v3/limits`) of one cloud. Calls go through a system-scoped
 * admin session: a project-scoped token lists only its own project's limits (Keystone filters by the token's
 * project), so reading every project's limits needs `system: all`. The bootstrap admin has that role; an admin
 * configured as an application credential keeps its project scope and sees its own project only.
 */
export class LimitsClient {
  private readonly serviceIds = new Map<string, Promise<string>>();

  constructor(
    /** A Keystone client whose session is system-scoped. */
    private readonly system: KeystoneClient,
  ) {}

  /** The enforcement model: `flat` or `strict-two-level`. */
  model(): Promise<string> {
    return this.system.request({
      operation: "keystone.limits.model",
      method: "GET",
      path: "/limits/model",
      schema: LimitModelReplySchema,
    });
  }

  /** The id of the service of `type` (`compute`, `volumev3`, `network`), remembered; limits name services by id. */
  serviceId(type: string): Promise<string> {
    let id = this.serviceIds.get(type);
    if (!id) {
      id = this.list("keystone.services.list", `/services${query({ type })}`, "services", ServiceSchema).then((s) => {
        const [first] = s;
        if (!first) {
          throw new ArchwayError(
            "keystone_service_not_found",
            `cloud ${this.system.cloudId}: no service of type ${type} in Keystone; unified limits name a service`,
            502,
          );
        }
        return first.id;
      });
      // A failure (cloud down) must not stick.
      id.catch(() => this.serviceIds.delete(type));
      this.serviceIds.set(type, id);
    }
    return id;
  }

  // ---- registered limits: the default of a resource for every project
  listRegisteredLimits(filter: Omit<LimitFilter, "projectId"> = {}): Promise<RegisteredLimit[]> {
    const q = query({ service_id: filter.serviceId, region_id: filter.regionId, resource_name: filter.resourceName });
    return this.list(
      "keystone.registered_limits.list",
      `/registered_limits${q}`,
      "registered_limits",
      RegisteredLimitSchema,
    );
  }
  createRegisteredLimit(body: {
    serviceId: string;
    resourceName: string;
    defaultLimit: number;
    regionId?: string;
    description?: string;
  }): Promise<RegisteredLimit> {
    const item = {
      service_id: body.serviceId,
      resource_name: body.resourceName,
      default_limit: body.defaultLimit,
      ...(body.regionId ? { region_id: body.regionId } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    };
    return this.system.request({
      operation: "keystone.registered_limits.create",
      method: "POST",
      path: "/registered_limits",
      body: { registered_limits: [item] },
      schema: createdOne("registered_limits", RegisteredLimitSchema),
    });
  }
  updateRegisteredLimit(id: string, body: { defaultLimit?: number; description?: string }): Promise<RegisteredLimit> {
    return this.system.request({
      operation: "keystone.registered_limits.update",
      method: "PATCH",
      path: `/registered_limits/${enc(id)}`,
      body: { registered_limit: { default_limit: body.defaultLimit, description: body.description } },
      schema: oneOf("registered_limit", RegisteredLimitSchema),
    });
  }
  async deleteRegisteredLimit(id: string): Promise<void> {
    const path = `/registered_limits/${enc(id)}`;
    await this.system.request({ operation: "keystone.registered_limits.delete", method: "DELETE", path });
  }

  // ---- project limits: a project's own value, overriding the registered default
  listLimits(filter: LimitFilter = {}): Promise<Limit[]> {
    const q = query({
      service_id: filter.serviceId,
      region_id: filter.regionId,
      resource_name: filter.resourceName,
      project_id: filter.projectId,
    });
    return this.list("keystone.limits.list", `/limits${q}`, "limits", LimitSchema);
  }
  createLimit(body: {
    projectId: string;
    serviceId: string;
    resourceName: string;
    resourceLimit: number;
    regionId?: string;
    description?: string;
  }): Promise<Limit> {
    const item = {
      project_id: body.projectId,
      service_id: body.serviceId,
      resource_name: body.resourceName,
      resource_limit: body.resourceLimit,
      ...(body.regionId ? { region_id: body.regionId } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    };
    return this.system.request({
      operation: "keystone.limits.create",
      method: "POST",
      path: "/limits",
      body: { limits: [item] },
      schema: createdOne("limits", LimitSchema),
    });
  }
  updateLimit(id: string, body: { resourceLimit?: number; description?: string }): Promise<Limit> {
    return this.system.request({
      operation: "keystone.limits.update",
      method: "PATCH",
      path: `/limits/${enc(id)}`,
      body: { limit: { resource_limit: body.resourceLimit, description: body.description } },
      schema: oneOf("limit", LimitSchema),
    });
  }
  async deleteLimit(id: string): Promise<void> {
    await this.system.request({ operation: "keystone.limits.delete", method: "DELETE", path: `/limits/${enc(id)}` });
  }

  /**
   * The limits that apply to a project for one service: each registered default, replaced by the project's own
   * limit where it has one. `regionId` keeps the limits of that region and those without a region.
   */
  async effectiveLimits(projectId: string, serviceId: string, regionId?: string): Promise<QuotaLimits> {
    const [registered, own] = await Promise.all([
      this.listRegisteredLimits({ serviceId }),
      this.listLimits({ serviceId, projectId }),
    ]);
    return effectiveLimits(registered, own, regionId);
  }

  private async list<T extends z.ZodType>(
    operation: string,
    path: string,
    key: string,
    item: T,
  ): Promise<z.infer<T>[]> {
    const reply = await this.system.request({ operation, method: "GET", path, schema: listOf(key, item) });
    if (reply.truncated) {
      throw new ArchwayError(
        "keystone_truncated",
        `cloud ${this.system.cloudId}: ${operation} was truncated by Keystone's list_limit; raise it for Archway's admin`,
        502,
      );
    }
    return reply.items;
  }
}

/**
 * Registered defaults overridden by a project's own limits (pure: the report and the planner use it). Limits of
 * another region than `regionId` are ignored; a regional value wins over a region-less one of the same resource.
 */
export function effectiveLimits(
  registered: readonly RegisteredLimit[],
  own: readonly Limit[],
  regionId?: string,
): QuotaLimits {
  const out: QuotaLimits = {};
  const regional = new Set<string>();
  const apply = (resource: string, value: number, region: string | null | undefined) => {
    if (region && regionId && region !== regionId) return;
    if (!region && regional.has(resource)) return;
    if (region) regional.add(resource);
    out[resource] = value;
  };
  for (const r of registered) apply(r.resource_name, r.default_limit, r.region_id);
  regional.clear();
  for (const l of own) apply(l.resource_name, l.resource_limit, l.region_id);
  return out;
}
