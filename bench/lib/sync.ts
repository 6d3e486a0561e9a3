// Shared pieces of the sync benchmarks: synthetic people, an in-memory identity source, and Archway's sync built
// from the compiled code (dist/, as production runs it) the way `archway sync apply` builds it.
import { randomBytes } from "node:crypto";
import type * as ConfigModule from "../../src/config/index.js";
import type { Cloud, Config } from "../../src/config/index.js";
import type { EnumerableSource, Identity } from "../../src/identity/index.js";
import type * as OpenStackModule from "../../src/openstack/index.js";
import type { RequestEvent } from "../../src/openstack/index.js";
import type * as PolicyModule from "../../src/policy/index.js";
import type * as StoreModule from "../../src/store/index.js";
import type * as SyncModule from "../../src/sync/index.js";
import type { SyncParts } from "../../src/sync/index.js";

// Variables, so TypeScript takes the types above and does not try to resolve the compiled files.
const dist = (path: string) => `../../dist/${path}`;
export const { ConfigSchema, CloudSchema } = (await import(dist("config/index.js"))) as typeof ConfigModule;
export const { compilePolicies } = (await import(dist("policy/index.js"))) as typeof PolicyModule;
export const { MemoryStore } = (await import(dist("store/index.js"))) as typeof StoreModule;
export const { createSync } = (await import(dist("sync/index.js"))) as typeof SyncModule;
export const { createCloudClients, mapLimit } = (await import(dist("openstack/index.js"))) as typeof OpenStackModule;

/** The deployment id the benchmarks' Archway writes into its marks (the direct sides write the same). */
export const BENCH_DEPLOYMENT = "bench";

/** `count` people of one team (or `teams` teams, round robin), with usernames `<prefix>00000`. */
export function syntheticPeople(count: number, opts: { prefix?: string; teams?: number } = {}): Identity[] {
  const prefix = opts.prefix ?? "p";
  return Array.from({ length: count }, (_, i) => {
    const username = `${prefix}${String(i).padStart(5, "0")}`;
    return {
      id: `bench:${username}`,
      source: "bench",
      username,
      email: `${username}@example.org`,
      displayName: `Person ${i}`,
      groups: [`team-${i % (opts.teams ?? 1)}`],
      groupDns: [],
      sshKeys: [],
      attributes: {},
    };
  });
}

/** An enumerable identity source over a fixed list (the directory is not what these benchmarks measure). */
export function listSource(people: readonly Identity[]): EnumerableSource {
  return {
    id: "bench",
    type: "static",
    ping: async () => {},
    close: async () => {},
    mark: async () => new Date().toISOString(),
    async *list() {
      yield* people;
    },
  };
}

/** Archway's sync over `clouds`, on the in-memory store, with the given policies; every HTTP attempt reported. */
export function archwaySync(opts: {
  clouds: Cloud[];
  people: readonly Identity[];
  policiesYaml: string;
  onRequest?: (e: RequestEvent) => void;
  concurrency?: number;
}): { sync: SyncParts; config: Config } {
  const config = ConfigSchema.parse({
    deploymentId: BENCH_DEPLOYMENT,
    secrets: { shadowPasswordKey: randomBytes(32).toString("base64url") },
    clouds: opts.clouds,
    sync: { concurrency: opts.concurrency ?? 16, maxDeletesPerRun: { perCloud: 100_000, total: 1_000_000 } },
  });
  const compiled = compilePolicies([{ file: "bench.yaml", text: opts.policiesYaml }], {
    clouds: config.clouds,
    sources: ["bench"],
    roles: config.roles,
  });
  if (compiled.problems.length > 0) throw new Error(JSON.stringify(compiled.problems));
  const store = new MemoryStore();
  const sync = createSync({
    config,
    store,
    // Archway records every applied change; that cost stays in the measurement (the log line is left out).
    audit: async (event) => {
      await store.append("audit", { ...event, at: new Date().toISOString() }, { maxLength: 1_000_000 });
    },
    sources: [listSource(opts.people)],
    policies: () => compiled.policies,
    queue: "inline",
    clientOptions: { onRequest: opts.onRequest, retry: { attempts: 3, baseMs: 100 } },
  });
  return { sync, config };
}

/** Counts requests by operation. */
export function countByOperation(events: readonly RequestEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) out.set(e.operation, (out.get(e.operation) ?? 0) + 1);
  return out;
}

/** Requests that change something (token issues excluded). */
export function isWrite(e: RequestEvent): boolean {
  return e.method !== "GET" && e.method !== "HEAD" && e.operation !== "keystone.auth.issue";
}
