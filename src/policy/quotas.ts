import { z } from "zod";

/** A quota value: a count, or -1 for unlimited (what every OpenStack quota API means by -1). */
const Limit = z.number().int().min(-1, "expected a count, or -1 for unlimited");

/** Nova's per-project limits (RAM in MiB). */
export const ComputeQuotasSchema = z
  .object({
    cores: Limit.optional(),
    ram: Limit.optional(),
    instances: Limit.optional(),
    key_pairs: Limit.optional(),
    metadata_items: Limit.optional(),
    server_groups: Limit.optional(),
    server_group_members: Limit.optional(),
  })
  .strict();

/** Cinder's per-project limits (sizes in GiB). */
export const VolumeQuotasSchema = z
  .object({
    volumes: Limit.optional(),
    gigabytes: Limit.optional(),
    snapshots: Limit.optional(),
    backups: Limit.optional(),
    backup_gigabytes: Limit.optional(),
    groups: Limit.optional(),
    per_volume_gigabytes: Limit.optional(),
  })
  .strict();

/** Neutron's per-project limits, under Neutron's own (singular) resource names. */
export const NetworkQuotasSchema = z
  .object({
    network: Limit.optional(),
    subnet: Limit.optional(),
    port: Limit.optional(),
    router: Limit.optional(),
    floatingip: Limit.optional(),
    security_group: Limit.optional(),
    security_group_rule: Limit.optional(),
    subnetpool: Limit.optional(),
    rbac_policy: Limit.optional(),
  })
  .strict();

/**
 * `quotas:` on a grant: the limits of the granted project in each cloud the policy targets, per service. Only what
 * is named is set; anything else keeps the cloud's default. Unknown names are refused (a typo would otherwise set
 * nothing). Where they go depends on the cloud's `quotaBackend` (see docs/sync.md); sync plans and applies them
 * with the resource registry.
 */
export const QuotasSchema = z
  .object({
    compute: ComputeQuotasSchema.optional(),
    volume: VolumeQuotasSchema.optional(),
    network: NetworkQuotasSchema.optional(),
  })
  .strict();
export type Quotas = z.infer<typeof QuotasSchema>;
/** The services a grant's quotas name. */
export type QuotaService = keyof Quotas;
/** Every service of {@link QuotasSchema}, in a fixed order (reports, plans). */
export const QUOTA_SERVICES = ["compute", "volume", "network"] as const satisfies readonly QuotaService[];

/** The resource names each service's quotas accept, from the schemas (reports show these, in this order). */
export const QUOTA_RESOURCES: Readonly<Record<QuotaService, readonly string[]>> = {
  compute: Object.keys(ComputeQuotasSchema.shape),
  volume: Object.keys(VolumeQuotasSchema.shape),
  network: Object.keys(NetworkQuotasSchema.shape),
};

/** A quota set frozen to its last level: shared by every person and project a grant gives it to, never copied. */
export function freezeQuotas(q: Quotas): Quotas {
  for (const service of QUOTA_SERVICES) {
    const limits = q[service];
    if (limits) Object.freeze(limits);
  }
  return Object.freeze(q);
}

/** The larger of two limits: -1 (unlimited) is larger than any count. */
export function largerLimit(a: number, b: number): number {
  return a < 0 || b < 0 ? -1 : Math.max(a, b);
}

/**
 * Two grants' quotas for one project, merged so the result never depends on policy or person order: per service and
 * resource the larger limit ({@link largerLimit}). Returns `a` or `b` itself whenever one already holds the merge (the
 * common case: every member of a team brings the same grant's frozen object), a new frozen set otherwise.
 */
export function mergeQuotas(a: Quotas | undefined, b: Quotas | undefined): Quotas | undefined {
  if (a === b || !b) return a;
  if (!a) return b;
  const merged: Quotas = {};
  let fromA = true;
  let fromB = true;
  for (const service of QUOTA_SERVICES) {
    const x: Record<string, number | undefined> | undefined = a[service];
    const y: Record<string, number | undefined> | undefined = b[service];
    if (!x && !y) continue;
    const out: Record<string, number> = {};
    for (const name of QUOTA_RESOURCES[service]) {
      const u = x?.[name];
      const v = y?.[name];
      if (u === undefined && v === undefined) continue;
      const w = u === undefined ? (v as number) : v === undefined ? u : largerLimit(u, v);
      out[name] = w;
      if (w !== u) fromA = false;
      if (w !== v) fromB = false;
    }
    (merged as Record<string, unknown>)[service] = Object.freeze(out);
  }
  if (fromA) return a;
  if (fromB) return b;
  return Object.freeze(merged);
}

/** `compute cores=8 ram=16384; network port=50`: one line a person reads (explain, plans). -1 reads `unlimited`. */
export function formatQuotas(q: Quotas): string {
  const parts: string[] = [];
  for (const service of QUOTA_SERVICES) {
    const limits: Record<string, number | undefined> | undefined = q[service];
    if (!limits) continue;
    const named = QUOTA_RESOURCES[service].filter((r) => limits[r] !== undefined);
    if (named.length === 0) continue;
    parts.push(`${service} ${named.map((r) => `${r}=${limitText(limits[r] as number)}`).join(" ")}`);
  }
  return parts.join("; ");
}

/** A limit as text: the count, or `unlimited` for -1. */
export function limitText(n: number): string {
  return n < 0 ? "unlimited" : String(n);
}
