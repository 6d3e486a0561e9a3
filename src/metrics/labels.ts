/**
 * Label values kept bounded: whatever a client sends, a label only ever takes one of a known set of values (a
 * status class, a service from a fixed list, a cloud or source id from the configuration). Never a username, a
 * project id or a URL path.
 */

/** `2xx`, `4xx`, ...; `none` when no reply came (status 0). */
export function statusClass(status: number): string {
  if (status >= 100 && status < 600) return STATUS_CLASSES[Math.floor(status / 100)] as string;
  return "none";
}
const STATUS_CLASSES = ["none", "1xx", "2xx", "3xx", "4xx", "5xx"];

/**
 * Upstream services a label may name: Archway's own clients (`keystone`, `nova`) and the catalog service types the
 * proxy forwards to. Anything else is `other`.
 */
export const UPSTREAM_SERVICES: ReadonlySet<string> = new Set([
  "keystone",
  "nova",
  "identity",
  "compute",
  "network",
  "image",
  "volume",
  "volumev2",
  "volumev3",
  "block-storage",
  "placement",
  "object-store",
  "orchestration",
  "load-balancer",
  "dns",
  "key-manager",
]);

/** `service` when it is one of {@link UPSTREAM_SERVICES}, else `other`. */
export function serviceLabel(service: string): string {
  return UPSTREAM_SERVICES.has(service) ? service : "other";
}

/** HTTP methods a label may name; anything else is `other`. */
const METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** `method` when it is a standard HTTP method, else `other`. */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "other";
}

/**
 * A label value limited to the ids the configuration names (clouds, identity sources): an id from a request that
 * names no configured object is `unknown`. Reads the known set through a function, so a reloaded inventory counts.
 */
export class KnownIds {
  readonly #ids: () => ReadonlySet<string>;

  constructor(ids: () => Iterable<string>) {
    let cached: { from: Iterable<string>; set: ReadonlySet<string> } | undefined;
    this.#ids = () => {
      const from = ids();
      if (cached?.from !== from) cached = { from, set: new Set(from) };
      return cached.set;
    };
  }

  /** `id` when configured, else `unknown`. */
  label(id: string | undefined): string {
    return id !== undefined && this.#ids().has(id) ? id : "unknown";
  }
}
