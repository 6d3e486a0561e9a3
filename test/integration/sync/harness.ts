import type { Cloud } from "../../../src/config/index.js";
import { type CloudClients, createCloudClients, type RequestEvent } from "../../../src/openstack/index.js";
import type { DesiredCloudState } from "../../../src/policy/index.js";
import { MemoryStore, type Store } from "../../../src/store/index.js";
import { emptyDesired, KEYS_ATTR, SyncEngine, type SyncEngineDeps, USER_MARK } from "../../../src/sync/index.js";
import { testClouds, uniqueName } from "../openstack/clouds.js";

/** A person in hand-built desired states. */
export interface Person {
  id: string;
  username: string;
  projects?: { name: string; role: string }[];
  keys?: string[];
  groups?: string[];
}

/**
 * The real clouds of the test environment with a domain unique to this test file, clients that count their
 * requests, a memory store, recorded audit events and a controllable clock.
 */
export function createHarness(opts: { engine?: Partial<SyncEngineDeps>; timeoutMs?: number } = {}) {
  const domain = uniqueName();
  const clouds = testClouds({ domain, timeoutMs: opts.timeoutMs });
  const requests: RequestEvent[] = [];
  const cache = new Map<string, CloudClients>();
  const clients = (cloud: Cloud) => {
    let c = cache.get(cloud.id);
    if (!c) {
      c = createCloudClients(cloud, { onRequest: (e) => requests.push(e), retry: { attempts: 2, baseMs: 50 } });
      cache.set(cloud.id, c);
    }
    return c;
  };
  const audit: Record<string, unknown>[] = [];
  const clock = { now: new Date() };
  const store: Store = new MemoryStore();
  const engineDeps = (extra: Partial<SyncEngineDeps> = {}): SyncEngineDeps => ({
    clouds,
    clients,
    store,
    audit: (e) => {
      audit.push(e);
    },
    passwordSecret: "test-shadow-secret",
    keyVersion: 1,
    // The test domain's name: a deployment of its own, so other test files' projects are not this one's orphans.
    ownership: { deploymentId: domain, adoptUnmarked: false },
    graceMs: 3_600_000,
    maxDeletes: { perCloud: 50, total: 500 },
    now: () => clock.now,
    ...opts.engine,
    ...extra,
  });
  return {
    domain,
    clouds,
    clients,
    requests,
    audit,
    clock,
    store,
    engine: (extra: Partial<SyncEngineDeps> = {}) => new SyncEngine(engineDeps(extra)),
    /** Requests that changed something (token issue excluded). */
    writes: (from = 0) =>
      requests.slice(from).filter((r) => r.method !== "GET" && r.operation !== "keystone.auth.issue"),
    /** Deletes Archway's keypairs and the test domain in every cloud, then closes the clients. */
    async cleanup() {
      for (const cloud of clouds) {
        const c = clients(cloud);
        try {
          const [d] = await c.keystone.listDomains({ name: domain });
          if (!d) continue;
          for (const u of await c.keystone.listUsers({ domainId: d.id })) {
            const keys = u[KEYS_ATTR];
            if (u[USER_MARK] !== true || !keys || typeof keys !== "object") continue;
            for (const name of Object.keys(keys))
              await c
                .nova()
                .deleteKeypair(u.id, name)
                .catch(() => {});
          }
          await c.keystone.deleteDomain(d.id);
        } catch {
          // A cloud stopped by a failure test may not be back; the domain name is unique anyway.
        }
      }
      await Promise.all([...cache.values()].map((c) => c.close()));
    },
  };
}

/** The desired state of one cloud from hand-written people (projects created in the test domain). */
export function desiredFor(cloudId: string, domain: string, people: Person[]): DesiredCloudState {
  const state = emptyDesired(cloudId);
  const projects = new Set<string>();
  for (const p of people) {
    state.users.push({
      identityId: p.id,
      username: p.username,
      email: `${p.username}@example.org`,
      groups: p.groups ?? [],
    });
    for (const g of p.projects ?? []) {
      projects.add(g.name);
      state.assignments.push({
        identityId: p.id,
        project: g.name,
        projectDomain: domain,
        role: g.role,
        policies: ["test-policy"],
      });
    }
    for (const k of p.keys ?? []) state.keys.push({ identityId: p.id, publicKey: k, policies: ["test-keys"] });
    for (const g of p.groups ?? [])
      state.memberships.push({ identityId: p.id, group: g, domain, policies: ["test-groups"] });
  }
  for (const name of [...projects].sort()) {
    state.projects.push({
      name,
      domain,
      description: `project ${name}`,
      tags: [],
      create: true,
      policies: ["test-policy"],
    });
  }
  return state;
}

/** A few valid ed25519 public keys. */
export const KEYS = [
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvNAk1sYEh2bJ8o0w2Pkf2W9TdVRWdnS16T5ZAiWDMO alice@laptop",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFQwTA6nkv0QS+9uXaB3nKIRR++kEqSEN//t3v7NQvTB alice@desktop",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIwtMzoWW1uc85OpLNUJ8mAwYb9MA0RdU9910AePJ2yA bob key (work)",
];
