import { keypairNames, type ParsedKey, parsePublicKey } from "../../ownership.js";
import type { PlanContext, Planned } from "../../resource.js";
import { usableUsers, users } from "../user/index.js";
import { type KeypairOperation, keypairs } from "./index.js";

/**
 * Keypairs of each usable person: import what is missing, replace Archway's own key when the key under a name
 * changed, delete what Archway put there and nobody wants any more, and record in the user which keypairs are
 * Archway's. A keypair under a name Archway did not record is someone else's: reported, never replaced.
 */
export function planKeypairs(ctx: PlanContext): Planned<KeypairOperation> {
  const operations: KeypairOperation[] = [];
  const problems: string[] = [];
  const usable = usableUsers(ctx);
  const observedUsers = ctx.observed(users).byIdentity;
  const inNovaByUser = ctx.observed(keypairs);
  const byPerson = new Map<string, { key: ParsedKey; policies: string[] }[]>();
  for (const k of ctx.input.desired.keys) {
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
    const seen = observedUsers.get(identityId);
    const entries = byPerson.get(identityId) ?? [];
    const policiesByFp = new Map(entries.map((e) => [e.key.fingerprint, e.policies]));
    const names = keypairNames(entries.map((e) => e.key));
    if (seen && !inNovaByUser.has(seen.id)) continue; // record matches the desired keys
    const inNova = new Map(
      (seen ? (inNovaByUser.get(seen.id) ?? []) : []).map((k) => [k.name, parsePublicKey(k.public_key)?.fingerprint]),
    );
    const recorded = seen?.keys ?? {};
    const record: Record<string, string> = {};
    const base = { identityId, username: user.username };
    for (const [name, key] of names) {
      const present = inNova.get(name);
      if (inNova.has(name) && present === key.fingerprint) {
        record[name] = key.fingerprint;
      } else if (inNova.has(name) && !(name in recorded)) {
        problems.push(`keypair '${name}' of ${user.username} exists with another key, not Archway's: not replaced`);
      } else {
        operations.push({
          kind: "importKey",
          ...base,
          name,
          publicKey: key.canonical,
          fingerprint: key.fingerprint,
          replace: inNova.has(name),
          policies: policiesByFp.get(key.fingerprint) ?? [],
        });
        record[name] = key.fingerprint;
      }
    }
    for (const name of Object.keys(recorded)) {
      if (!names.has(name) && inNova.has(name) && seen)
        operations.push({ kind: "deleteKey", ...base, userId: seen.id, name, policies: [] });
    }
    if (JSON.stringify(sortRecord(record)) !== JSON.stringify(sortRecord(recorded)))
      operations.push({ kind: "recordKeys", ...base, keys: sortRecord(record), policies: [] });
  }
  return { operations, problems };
}

function sortRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
