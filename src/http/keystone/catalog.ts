import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import type { Logger } from "../../log/index.js";
import {
  CatalogEntrySchema,
  type CloudBreakers,
  type CloudClients,
  createCloudClients,
  endpointFor,
} from "../../openstack/index.js";
import type { Store } from "../../store/index.js";

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

/** A cloud's catalog as the store keeps it, for every Archway process to share. */
const StoredCatalogSchema = z.object({
  services: z.record(z.string(), z.string()),
  /** When it was read from the cloud (ms since the epoch). */
  fetchedAt: z.number(),
});

/** The last good copy of one cloud's service list. */
export interface CatalogCopy {
  services: ReadonlyMap<string, string>;
  fetchedAt: number;
}

/** How catalogs are kept fresh. */
export interface CatalogOptions {
  /** Where the copies live for every process (key `catalog:<cloud>`). */
  store: Store;
  /** Shared clients (sync's); without them, clients are made and closed here. */
  clients?: (cloud: Cloud) => CloudClients;
  /** The process's per-cloud breakers (used by the clients made here; shared clients carry their own). */
  breakers?: CloudBreakers;
  /** A copy older than this is read again (`catalog.refreshSeconds`, default 5 min). */
  refreshMs?: number;
  /** A read that failed is tried again after this long (default 15 s; the breaker makes it cheap while open). */
  retryMs?: number;
  /**
   * How long, after start, a request may wait for the first read of a cloud that has no copy anywhere yet, so that
   * a fresh deployment's first login lists its healthy clouds (default 2 s; 0: never wait). After that, a cloud
   * never read is listed with its identity endpoint only, until the refresher reads it.
   */
  coldWaitMs?: number;
  /** Clouds read at once (default 16). */
  concurrency?: number;
  log?: Pick<Logger, "info" | "warn">;
  now?: () => number;
}

const EMPTY = new Map<string, string>();
const EMPTY_LIST: Promise<Map<string, string>> = Promise.resolve(EMPTY);
const TICK_MS = 1_000;

interface Entry {
  cloud: Cloud;
  copy?: CatalogCopy & { promise: Promise<Map<string, string>> };
  /** Next read (or look in the store) due at. */
  due: number;
  reading: boolean;
  failing: boolean;
  /** While cold: the one promise every request gets, settled by the first read or the end of the wait. */
  cold?: Promise<Map<string, string>>;
  settleCold?: () => void;
}

/**
 * The real public endpoints of each cloud's services, refreshed in the background and served from the last good
 * copy, which the store keeps for every process (serve, workers, several gateways). A request never waits for a
 * cloud: a cloud that does not answer keeps its last copy (only that region degrades, and the breaker tells the
 * proxy); a cloud never read has no services listed until the refresher reads it. A fresh process serves the store's
 * copies as soon as it has loaded them.
 */
export class CloudCatalogs {
  readonly #entries: Map<string, Entry>;
  readonly #clients = new Map<string, CloudClients>();
  readonly #o: Required<Omit<CatalogOptions, "clients" | "breakers" | "log">> & Pick<CatalogOptions, "log">;
  readonly #make: (cloud: Cloud) => CloudClients;
  /** Only clients this object created are closed by it; shared ones belong to their maker. */
  readonly #owned: boolean;
  #loaded: Promise<void> | undefined;
  #coldUntil = 0;
  #storeLoaded = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(clouds: readonly Cloud[], opts: CatalogOptions) {
    this.#o = { refreshMs: 300_000, retryMs: 15_000, coldWaitMs: 2_000, concurrency: 16, now: Date.now, ...opts };
    this.#entries = new Map(clouds.map((c) => [c.id, { cloud: c, due: 0, reading: false, failing: false }]));
    this.#owned = opts.clients === undefined;
    this.#make = opts.clients ?? ((cloud: Cloud) => createCloudClients(cloud, { breakers: opts.breakers }));
  }

  cloud(cloudId: string): Cloud | undefined {
    return this.#entries.get(cloudId)?.cloud;
  }

  /**
   * Follows a reloaded inventory (`clouds.d`): added clouds are read at the next tick, removed ones forgotten,
   * the others keep their copies.
   */
  setClouds(clouds: readonly Cloud[]): void {
    const ids = new Set(clouds.map((c) => c.id));
    for (const id of [...this.#entries.keys()]) if (!ids.has(id)) this.#entries.delete(id);
    for (const cloud of clouds) {
      const entry = this.#entries.get(cloud.id);
      if (entry) entry.cloud = cloud;
      else this.#entries.set(cloud.id, { cloud, due: 0, reading: false, failing: false });
    }
  }

  /** The last good copy of a cloud's service list, if any was ever read. */
  current(cloudId: string): CatalogCopy | undefined {
    return this.#entries.get(cloudId)?.copy;
  }

  /**
   * Service type -> real endpoint URL (no trailing slash) of one cloud, from the last good copy; empty for a cloud
   * never read. Never waits for the cloud (only, in a process's first seconds, for the store's copies and the first
   * reads, see `coldWaitMs`). The same promise is returned until the copy changes (callers tell a refresh by it).
   */
  services(cloudId: string): Promise<Map<string, string>> {
    const entry = this.#entries.get(cloudId);
    if (!entry) return EMPTY_LIST;
    if (entry.copy) return entry.copy.promise;
    this.start();
    if (this.#storeLoaded && this.#o.now() >= this.#coldUntil) return EMPTY_LIST;
    entry.cold ??= (async () => {
      // The store's copies first (bounded by the store's own command timeout): a fresh process serves them at once.
      await this.#loaded;
      const remaining = this.#coldUntil - this.#o.now();
      if (!entry.copy && remaining > 0)
        await new Promise<void>((settle) => {
          entry.settleCold = settle;
          setTimeout(settle, remaining).unref();
        });
      return entry.copy?.promise ?? EMPTY;
    })();
    return entry.cold;
  }

  /** Loads the store's copies and starts the background refresh (idempotent; `services` starts it too). */
  start(): void {
    if (this.#loaded || this.#closed) return;
    this.#coldUntil = this.#o.now() + this.#o.coldWaitMs;
    this.#loaded = (async () => {
      const clouds = [...this.#entries.values()];
      for (let i = 0; i < clouds.length; i += 256) {
        await Promise.all(clouds.slice(i, i + 256).map((e) => this.#adoptStored(e).catch(() => undefined)));
      }
      // A cloud whose copy another process read recently is not read again before it is due.
      for (const e of clouds) e.due = e.copy ? e.copy.fetchedAt + this.#o.refreshMs : 0;
      this.#storeLoaded = true;
      this.#tick();
    })();
  }

  /** Reads one cloud's catalog now (tests, operators); resolves whether it succeeded. */
  async refresh(cloudId: string): Promise<boolean> {
    const entry = this.#entries.get(cloudId);
    return entry ? this.#read(entry) : false;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    if (!this.#owned) return;
    await Promise.allSettled([...this.#clients.values()].map((c) => c.close()));
  }

  #tick(): void {
    if (this.#closed) return;
    const now = this.#o.now();
    let reading = [...this.#entries.values()].filter((e) => e.reading).length;
    for (const entry of this.#entries.values()) {
      if (reading >= this.#o.concurrency) break;
      if (entry.reading || entry.due > now) continue;
      reading++;
      void this.#refreshOne(entry);
    }
    this.#timer = setTimeout(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  /** The store's copy first (another process may have read it); the cloud only when that copy is due too. */
  async #refreshOne(entry: Entry): Promise<void> {
    entry.reading = true;
    try {
      const now = this.#o.now();
      await this.#adoptStored(entry).catch(() => undefined);
      if (entry.copy && entry.copy.fetchedAt + this.#o.refreshMs > now) {
        entry.due = entry.copy.fetchedAt + this.#o.refreshMs;
        return;
      }
      // One process reads a cloud at a time; the others take its copy from the store.
      const mine = await this.#o.store
        .setIfAbsent(`catalog:${entry.cloud.id}:reading`, String(process.pid), { ttlMs: this.#o.retryMs })
        .catch(() => true);
      if (!mine) {
        entry.due = now + Math.min(this.#o.retryMs, 5_000);
        return;
      }
      await this.#read(entry);
    } finally {
      entry.reading = false;
    }
  }

  async #adoptStored(entry: Entry): Promise<void> {
    const raw = await this.#o.store.get(`catalog:${entry.cloud.id}`);
    if (raw === null) return;
    const parsed = StoredCatalogSchema.safeParse(JSON.parse(raw));
    if (!parsed.success || (entry.copy && entry.copy.fetchedAt >= parsed.data.fetchedAt)) return;
    this.#set(entry, new Map(Object.entries(parsed.data.services)), parsed.data.fetchedAt);
  }

  /** Reads the cloud's catalog (through its breaker: refused at once while open) and keeps it when it came. */
  async #read(entry: Entry): Promise<boolean> {
    const { cloud } = entry;
    try {
      const services = await this.#readCloud(cloud);
      const fetchedAt = this.#o.now();
      this.#set(entry, services, fetchedAt);
      entry.due = fetchedAt + this.#o.refreshMs;
      if (entry.failing) this.#o.log?.info({ cloud: cloud.id }, "catalog read again");
      entry.failing = false;
      const stored = { services: Object.fromEntries(services), fetchedAt };
      await this.#o.store.set(`catalog:${cloud.id}`, JSON.stringify(stored)).catch(() => undefined);
      return true;
    } catch (err) {
      entry.due = this.#o.now() + this.#o.retryMs;
      if (!entry.failing)
        this.#o.log?.warn(
          { cloud: cloud.id, err: (err as Error).message, lastGood: entry.copy?.fetchedAt },
          entry.copy
            ? "catalog not read; serving the last good copy"
            : "catalog not read; the cloud lists no services yet",
        );
      entry.failing = true;
      return false;
    } finally {
      entry.settleCold?.();
    }
  }

  async #readCloud(cloud: Cloud): Promise<Map<string, string>> {
    let clients = this.#clients.get(cloud.id);
    if (!clients) {
      clients = this.#make(cloud);
      this.#clients.set(cloud.id, clients);
    }
    // The admin token's own catalog would be as old as the token: ask Keystone for the current one.
    const [reply, adminProject] = await Promise.all([
      clients.keystone.request({
        operation: "keystone.auth.catalog",
        method: "GET",
        path: "/auth/catalog",
        schema: z.looseObject({ catalog: z.array(CatalogEntrySchema) }),
      }),
      clients.keystone.projectId(),
    ]);
    const out = new Map<string, string>();
    for (const type of PROXIED_SERVICE_TYPES) {
      try {
        const url = endpointFor(reply.catalog, type, { interface: cloud.interface, region: cloud.region }, cloud.id);
        out.set(type, withoutProject(url, adminProject));
      } catch {
        // Not in this cloud's catalog: no endpoint for it.
      }
    }
    return out;
  }

  #set(entry: Entry, services: Map<string, string>, fetchedAt: number): void {
    entry.copy = { services, fetchedAt, promise: Promise.resolve(services) };
  }
}

/**
 * `url` without the path segments that name `projectId`: Keystone substitutes the admin token's project into
 * templated endpoints (Cinder's `/v3/%(project_id)s`), which must reach neither the facade's catalog (a person's
 * token is scoped to another project, and Cinder refuses a URL whose project is not the token's) nor the proxy.
 * Services that take a project in the URL also answer without one (Cinder since microversion 3.67, in every
 * version's routes); a client that sends its own project's id gets it mapped by the proxy.
 */
export function withoutProject(url: string, projectId: string | undefined): string {
  if (!projectId) return url;
  const parsed = new URL(url);
  const segments = parsed.pathname.split("/");
  const kept = segments.filter((s) => s !== projectId);
  if (kept.length === segments.length) return url;
  parsed.pathname = kept.join("/");
  return parsed.toString().replace(/\/+$/, "");
}
