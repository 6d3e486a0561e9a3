import { z } from "zod";
import type { Identity, StoredKey } from "../../identity/index.js";
import { evaluate, type SessionStrength, WITH_MFA, WITHOUT_MFA } from "../../policy/index.js";
import { getJson, setJson } from "../../store/index.js";
import { type CloudSyncStatus, type JobResult, readStatus } from "../../sync/index.js";
import { entitledProjects } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";

/** One cloud as the "my clouds" page and `GET /api/v1/me` show it. */
export interface MyCloud {
  cloudId: string;
  name: string;
  region?: string;
  projects: { name: string; keystoneName: string; domain: string; roles: string[] }[];
  /** Whether a policy imports the person's SSH keys into this cloud. */
  keys: boolean;
  sync: { state: "ok" | "degraded" | "never"; lastSuccessAt?: string; lastError?: string };
}

/** A stored key with where it stands in each cloud its keys go to. */
export interface MyKey extends StoredKey {
  clouds: { cloudId: string; state: "synced" | "pending" | "failed"; detail?: string }[];
}

/** What the last key sync of a person did in one cloud. */
const KeySyncSchema = z.record(
  z.string(),
  z.object({ at: z.string(), ok: z.boolean(), reason: z.string().optional(), fingerprints: z.array(z.string()) }),
);
const keySyncKey = (identityId: string) => `keys:sync:${identityId}`;

/** The clouds, projects and roles the policies give this person, with each cloud's sync state. */
export async function myClouds(
  deps: Pick<WebDeps, "policies" | "clouds" | "store" | "keys">,
  identity: Identity,
  /** The asking session's strength: grants that wait on a second factor show only with one. */
  strength: SessionStrength = WITHOUT_MFA,
): Promise<MyCloud[]> {
  const policies = deps.policies();
  const merged = await deps.keys.merge(identity);
  const access = evaluate(merged, policies, strength);
  const projects = entitledProjects(identity, policies, strength);
  const cloudIds = [...new Set(projects.map((p) => p.cloudId))].sort();
  return Promise.all(
    cloudIds.map(async (cloudId): Promise<MyCloud> => {
      const cloud = deps.clouds.find((c) => c.id === cloudId);
      const status: CloudSyncStatus | null = await readStatus(deps.store, cloudId);
      return {
        cloudId,
        name: cloud?.name ?? cloudId,
        ...(cloud?.region ? { region: cloud.region } : {}),
        projects: projects
          .filter((p) => p.cloudId === cloudId)
          .map((p) => ({ name: p.name, keystoneName: p.keystoneName, domain: p.keystoneDomain, roles: p.roles })),
        keys: (access.get(cloudId)?.keys.length ?? 0) > 0,
        sync: {
          state: !status?.lastRunAt ? "never" : status.degraded ? "degraded" : "ok",
          ...(status?.lastSuccessAt ? { lastSuccessAt: status.lastSuccessAt } : {}),
          ...(status?.degraded && status.lastError ? { lastError: status.lastError } : {}),
        },
      };
    }),
  );
}

/** The person's stored keys with their per-cloud state (from the last key sync Archway ran for them). */
export async function myKeys(
  deps: Pick<WebDeps, "store" | "keys">,
  identity: Identity,
  clouds: readonly MyCloud[],
): Promise<MyKey[]> {
  const keys = await deps.keys.list(identity.id);
  const synced = (await getJson(deps.store, keySyncKey(identity.id), KeySyncSchema)) ?? {};
  return keys.map((k) => ({
    ...k,
    clouds: clouds
      .filter((c) => c.keys)
      .map((c) => {
        const last = synced[c.cloudId];
        if (last && !last.ok) return { cloudId: c.cloudId, state: "failed" as const, detail: last.reason };
        if (last?.fingerprints.includes(k.fingerprint))
          return { cloudId: c.cloudId, state: "synced" as const, detail: last.at };
        return { cloudId: c.cloudId, state: "pending" as const };
      }),
  }));
}

/**
 * Pushes the person's keys now (a just-in-time sync of their grants) and records, per cloud, which stored keys
 * that run left in place. Without sync (no shadow-password key) the keys wait for the next sync run elsewhere.
 */
export async function syncMyKeys(
  deps: Pick<WebDeps, "store" | "keys" | "sync" | "policies">,
  identity: Identity,
): Promise<JobResult[]> {
  if (!deps.sync) return [];
  const results = await deps.sync.service.person(identity);
  const fingerprints = (await deps.keys.list(identity.id)).map((k) => k.fingerprint);
  // Keys are provisioned whatever a session's strength (see sync): the full evaluation.
  const access = evaluate(await deps.keys.merge(identity), deps.policies(), WITH_MFA);
  const previous = (await getJson(deps.store, keySyncKey(identity.id), KeySyncSchema)) ?? {};
  const at = new Date().toISOString();
  for (const r of results) {
    const ok = r.outcome === "converged";
    const keysHere = (access.get(r.cloudId)?.keys.length ?? 0) > 0;
    previous[r.cloudId] = {
      at,
      ok,
      ...(ok ? {} : { reason: r.reason ?? r.outcome }),
      fingerprints: ok && keysHere ? fingerprints : [],
    };
  }
  await setJson(deps.store, keySyncKey(identity.id), previous);
  return results;
}
