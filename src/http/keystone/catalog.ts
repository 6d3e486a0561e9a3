import type { Cloud } from "../../config/index.js";
import { type CloudClients, createCloudClients } from "../../openstack/index.js";

/** Service types Archway looks for in each cloud's catalog and proxies. */
export const PROXIED_SERVICE_TYPES = [
  "compute",
  "network",
  "image",
  "volumev3",
  "block-storage",
  "placement",
  "object-store",
  "load-balancer",
  "dns",
  "orchestration",
] as const;

const TTL_MS = 5 * 60_000;
const FAILED_TTL_MS = 15_000;

/**
 * The real public endpoints of each cloud's services, read from the cloud's own catalog with its admin session
 * and cached. A cloud that does not answer simply has no services for a while: only that region degrades.
 */
export class CloudCatalogs {
  readonly #clients = new Map<string, CloudClients>();
  readonly #cache = new Map<string, { expires: number; value: Promise<Map<string, string>> }>();
  readonly #clouds: Map<string, Cloud>;
  /** Only clients this object created are closed by it; shared ones belong to their maker. */
  readonly #owned: boolean;

  constructor(clouds: readonly Cloud[], opts: { clients?: (cloud: Cloud) => CloudClients } = {}) {
    this.#clouds = new Map(clouds.map((c) => [c.id, c]));
    this.#owned = opts.clients === undefined;
    const make = opts.clients ?? ((cloud: Cloud) => createCloudClients(cloud));
    for (const cloud of clouds) this.#clients.set(cloud.id, make(cloud));
  }

  cloud(cloudId: string): Cloud | undefined {
    return this.#clouds.get(cloudId);
  }

  /**
   * Service type -> real endpoint URL (no trailing slash) for one cloud; empty while the cloud is down. While the
   * cached list lasts, the very same promise is returned (callers may tell a refresh by its identity).
   */
  services(cloudId: string): Promise<Map<string, string>> {
    const now = Date.now();
    const hit = this.#cache.get(cloudId);
    if (hit && hit.expires > now) return hit.value;
    const value = this.#load(cloudId);
    const entry = { expires: now + TTL_MS, value };
    this.#cache.set(cloudId, entry);
    value.then((m) => {
      if (m.size === 0) entry.expires = Date.now() + FAILED_TTL_MS;
    });
    return value;
  }

  async close(): Promise<void> {
    if (!this.#owned) return;
    await Promise.allSettled([...this.#clients.values()].map((c) => c.close()));
  }

  async #load(cloudId: string): Promise<Map<string, string>> {
    const clients = this.#clients.get(cloudId);
    const cloud = this.#clouds.get(cloudId);
    const out = new Map<string, string>();
    if (!clients || !cloud) return out;
    await Promise.all(
      PROXIED_SERVICE_TYPES.map(async (type) => {
        try {
          out.set(type, await clients.keystone.endpoint(type, { interface: cloud.interface, region: cloud.region }));
        } catch {
          // Not in this cloud's catalog, or the cloud is down: no endpoint for it.
        }
      }),
    );
    return out;
  }
}
