import type { Cloud } from "../../../config/index.js";
import type { QuotaService } from "../../../policy/index.js";

/** The Keystone catalog type of each quota service (unified limits name the service; clients look up its URL). */
export const SERVICE_TYPES: Readonly<Record<QuotaService, string>> = {
  compute: "compute",
  volume: "volumev3",
  network: "network",
};

/**
 * Keystone unified-limit resource names of the config's quota names, for services that enforce unified limits.
 * Nova counts under placement-style names (`class:VCPU`...); Cinder keeps its own names. Neutron has none: its
 * quotas always go to its own API.
 */
export const UNIFIED_LIMIT_NAMES: Readonly<Partial<Record<QuotaService, Readonly<Record<string, string>>>>> = {
  compute: {
    cores: "class:VCPU",
    ram: "class:MEMORY_MB",
    instances: "servers",
    key_pairs: "server_key_pairs",
    metadata_items: "server_metadata_items",
    server_groups: "server_groups",
    server_group_members: "server_group_members",
  },
  volume: {
    volumes: "volumes",
    gigabytes: "gigabytes",
    snapshots: "snapshots",
    backups: "backups",
    backup_gigabytes: "backup_gigabytes",
    groups: "groups",
    per_volume_gigabytes: "per_volume_gigabytes",
  },
};

/** Whether a cloud with `quotaBackend: unified-limits` keeps `service`'s quotas in Keystone. */
export function usesUnifiedLimits(service: QuotaService): boolean {
  return UNIFIED_LIMIT_NAMES[service] !== undefined;
}

/** Limits keyed by unified-limit names, renamed to the config's names (names without a mapping are dropped). */
export function fromUnifiedNames(
  service: QuotaService,
  limits: Readonly<Record<string, number>>,
): Record<string, number> {
  const names = UNIFIED_LIMIT_NAMES[service] ?? {};
  const out: Record<string, number> = {};
  for (const [configName, unifiedName] of Object.entries(names)) {
    const value = limits[unifiedName];
    if (value !== undefined) out[configName] = value;
  }
  return out;
}

/** Where a cloud keeps one service's quotas: the service's own API, or Keystone unified limits. */
export type QuotaStore = "service" | "keystone";

/** Where `cloud` keeps `service`'s quotas (Neutron's always stay on Neutron: it has no unified limits). */
export function quotaStoreOf(cloud: Pick<Cloud, "quotaBackend">, service: QuotaService): QuotaStore {
  return cloud.quotaBackend === "unified-limits" && usesUnifiedLimits(service) ? "keystone" : "service";
}

/** A unified-limit name to the config's name (`class:VCPU` -> `cores`), or undefined for a name Archway does not set. */
export function configNameOf(service: QuotaService, unifiedName: string): string | undefined {
  const names = UNIFIED_LIMIT_NAMES[service] ?? {};
  for (const [configName, unified] of Object.entries(names)) if (unified === unifiedName) return configName;
  return undefined;
}
