import type { DesiredCloudState, DesiredUser } from "../policy/index.js";
import type { ObservedCloud } from "./observe.js";
import type { Operation } from "./operations.js";
import { keypairNames, type ParsedKey, parsePublicKey } from "./ownership.js";

/**
 * Keypairs of each person: import what is missing, replace Archway's own key when the key under a name changed,
 * delete what Archway put there and nobody wants any more, and record in the user which keypairs are Archway's
 * (Nova has no marks of its own). A keypair Archway did not create is never replaced or deleted.
 */
export function planKeys(
  desired: DesiredCloudState,
  observed: ObservedCloud,
  usable: Map<string, DesiredUser>,
  ops: Operation[],
  problems: string[],
) {
  const byPerson = new Map<string, { key: ParsedKey; policies: string[] }[]>();
  for (const k of desired.keys) {
    if (!usable.has(k.identityId)) continue;
    const key = parsePublicKey(k.publicKey);
    if (!key) {
      problems.push(`an SSH key of ${usable.get(k.identityId)?.username} is not an OpenSSH public key: skipped`);
      continue;
    }
    const list = byPerson.get(k.identityId) ?? [];
    list.push({ key, policies: k.policies });
    byPerson.set(k.identityId, list);
  }
  for (const [identityId, user] of usable) {
    const seen = observed.users.get(identityId);
    const entries = byPerson.get(identityId) ?? [];
    const policiesByFp = new Map(entries.map((e) => [e.key.fingerprint, e.policies]));
    const names = keypairNames(entries.map((e) => e.key));
    if (seen && !observed.keypairs.has(seen.id)) continue; // record matches the desired keys
    const inNova = new Map(
      (seen ? (observed.keypairs.get(seen.id) ?? []) : []).map((k) => [
        k.name,
        parsePublicKey(k.public_key)?.fingerprint,
      ]),
    );
    const recorded = seen?.keys ?? {};
    const record: Record<string, string> = {};
    const base = { identityId, username: user.username };
    for (const [name, key] of names) {
      const policies = policiesByFp.get(key.fingerprint) ?? [];
      const present = inNova.get(name);
      if (inNova.has(name) && present === key.fingerprint) {
        record[name] = key.fingerprint;
      } else if (inNova.has(name) && !(name in recorded)) {
        problems.push(`keypair '${name}' of ${user.username} exists with another key, not Archway's: not replaced`);
      } else {
        const replace = inNova.has(name);
        ops.push({
          kind: "importKey",
          ...base,
          name,
          publicKey: key.canonical,
          fingerprint: key.fingerprint,
          replace,
          policies,
        });
        record[name] = key.fingerprint;
      }
    }
    for (const name of Object.keys(recorded)) {
      if (!names.has(name) && inNova.has(name) && seen) {
        ops.push({ kind: "deleteKey", ...base, userId: seen.id, name, policies: [] });
      }
    }
    if (JSON.stringify(sortRecord(record)) !== JSON.stringify(sortRecord(recorded))) {
      ops.push({ kind: "recordKeys", ...base, keys: sortRecord(record), policies: [] });
    }
  }
}

function sortRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
