import { z } from "zod";

/**
 * Zod schemas of the quota replies of Nova (`os-quota-sets`), Cinder (`os-quota-sets`), Neutron (`quotas`) and
 * Keystone unified limits. Quota values are integers everywhere (-1: unlimited); any other value is an invalid
 * reply, never read as 0. Unknown resources are kept: clouds differ in what they count (Cinder adds one set per
 * volume type, Neutron one per loaded service plugin).
 */

/** One resource's limit and what is in use, the same shape for every service. */
export interface QuotaUsageEntry {
  limit: number;
  inUse: number;
}
/** Limits by resource name (`cores`, `volumes`, `port`...). */
export type QuotaLimits = Record<string, number>;
/** Limits and usage by resource name. */
export type QuotaUsage = Record<string, QuotaUsageEntry>;

const Count = z.number().int().min(-1);

/** `{limit, in_use, reserved}` of Nova's `/detail` and Cinder's `?usage=true`. */
const InUse = z.looseObject({ limit: Count, in_use: z.number().int(), reserved: z.number().int().optional() });
/** `{limit, used, reserved}` of Neutron's `/details`. */
const Used = z.looseObject({ limit: Count, used: z.number().int(), reserved: z.number().int().optional() });

/** Everything but `id` (Nova and Cinder echo the project id inside the set). */
function withoutId<T>(set: Record<string, T | string | undefined>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of Object.entries(set)) if (key !== "id" && value !== undefined) out[key] = value as T;
  return out;
}

/** Nova's and Cinder's `{"quota_set": {"id": ..., "<resource>": <int>}}`. */
export const QuotaSetReplySchema = z
  .object({ quota_set: z.object({ id: z.string().optional() }).catchall(Count) })
  .transform((v): QuotaLimits => withoutId(v.quota_set));

/** Nova's `/detail` and Cinder's `?usage=true`: `{"quota_set": {"<resource>": {limit, in_use, reserved}}}`. */
export const QuotaSetUsageReplySchema = z
  .object({ quota_set: z.object({ id: z.string().optional() }).catchall(InUse) })
  .transform(
    (v): QuotaUsage =>
      Object.fromEntries(
        Object.entries(withoutId(v.quota_set)).map(([k, e]) => [k, { limit: e.limit, inUse: e.in_use }]),
      ),
  );

/** Neutron's `{"quota": {"<resource>": <int>}}` (GET and PUT). */
export const NeutronQuotaReplySchema = z
  .object({ quota: z.record(z.string(), Count) })
  .transform((v): QuotaLimits => v.quota);

/** Neutron's `/quotas/{id}/details`: `{"quota": {"<resource>": {limit, used, reserved}}}`. */
export const NeutronQuotaDetailsReplySchema = z
  .object({ quota: z.record(z.string(), Used) })
  .transform(
    (v): QuotaUsage =>
      Object.fromEntries(Object.entries(v.quota).map(([k, e]) => [k, { limit: e.limit, inUse: e.used }])),
  );

/** A Keystone registered limit: the default of one resource of one service (and region) for every project. */
export const RegisteredLimitSchema = z.looseObject({
  id: z.string(),
  service_id: z.string(),
  region_id: z.string().nullish(),
  resource_name: z.string(),
  default_limit: z.number().int(),
  description: z.string().nullish(),
});
export type RegisteredLimit = z.infer<typeof RegisteredLimitSchema>;

/** A Keystone project limit: overrides the registered limit of the same service, region and resource. */
export const LimitSchema = z.looseObject({
  id: z.string(),
  project_id: z.string().nullish(),
  domain_id: z.string().nullish(),
  service_id: z.string(),
  region_id: z.string().nullish(),
  resource_name: z.string(),
  resource_limit: z.number().int(),
  description: z.string().nullish(),
});
export type Limit = z.infer<typeof LimitSchema>;

/** `GET /v3/limits/model`: `flat` or `strict-two-level`. */
export const LimitModelReplySchema = z
  .object({ model: z.looseObject({ name: z.string(), description: z.string().optional() }) })
  .transform((v) => v.model.name);

/** `POST /v3/<kind>` answers the created objects as a list; Archway creates one at a time. */
export function createdOne<T extends z.ZodType>(key: string, item: T) {
  return z.looseObject({ [key]: z.array(item).length(1) }).transform((v) => (v[key] as z.infer<T>[])[0] as z.infer<T>);
}
