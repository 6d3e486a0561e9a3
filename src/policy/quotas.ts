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
