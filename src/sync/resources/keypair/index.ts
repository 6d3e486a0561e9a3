import { type Keypair, mapLimit } from "../../../openstack/index.js";
import { KEYS_ATTR, parsePublicKey } from "../../ownership.js";
import type { ObserveContext, SyncResource } from "../../resource.js";
import { adoptOnConflict, ignoreNotFound } from "../idempotent.js";
import { userIdOf, users } from "../user/index.js";
import { planKeypairs } from "./plan.js";

/** The operations on Nova keypairs of shadow users, and on the record of them kept in the user. */
export type KeypairOperation =
  | {
      kind: "importKey";
      identityId: string;
      username: string;
      name: string;
      publicKey: string;
      fingerprint: string;
      /** An older key of Archway's holds the name: delete it first. */
      replace: boolean;
      policies: string[];
    }
  | { kind: "deleteKey"; identityId: string; userId: string; username: string; name: string; policies: string[] }
  | { kind: "recordKeys"; identityId: string; username: string; keys: Record<string, string>; policies: string[] };

/** Keypairs read from Nova by user id: only for users whose recorded keys differ from the desired ones. */
export type KeypairsObserved = Map<string, Keypair[]>;

/**
 * SSH keys of people as Nova keypairs of their shadow users. Nova has no marks, so the user records which keypairs
 * are Archway's (`archway_keys`); a keypair Archway did not put there is never replaced or deleted. A user's own
 * keypairs go with the user (see `deleteUser`).
 */
export const keypairs: SyncResource<KeypairOperation, KeypairsObserved> = {
  name: "keypair",
  observe: observeKeypairs,
  plan: planKeypairs,
  steps: {
    importKey: {
      phase: "links",
      action: (op) => (op.replace ? "update" : "create"),
      destructive: (op) => op.replace,
      describe: (op) =>
        `${op.replace ? "replace" : "import"} keypair '${op.name}' of ${op.username} (${op.fingerprint})`,
      async apply(ctx, op) {
        const nova = ctx.clients.nova();
        const userId = userIdOf(ctx, op.identityId);
        if (op.replace) await ignoreNotFound(() => nova.deleteKeypair(userId, op.name));
        await adoptOnConflict(
          () => nova.importKeypair(userId, op.name, op.publicKey),
          async () =>
            (await nova.listKeypairs(userId)).find((k) => k.name === op.name && sameKey(k.public_key, op.publicKey)),
        );
      },
    },
    deleteKey: {
      phase: "unlinks",
      action: () => "delete",
      describe: (op) => `delete keypair '${op.name}' of ${op.username}`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.nova().deleteKeypair(op.userId, op.name));
      },
    },
    recordKeys: {
      phase: "unlinks",
      action: () => "update",
      describe: (op) => `record keypairs of ${op.username}`,
      async apply(ctx, op) {
        await ctx.clients.keystone.updateUser(userIdOf(ctx, op.identityId), { [KEYS_ATTR]: op.keys });
      },
    },
  },
};

async function observeKeypairs(ctx: ObserveContext): Promise<KeypairsObserved> {
  const out: KeypairsObserved = new Map();
  const { desired } = ctx.input;
  const wanted = new Map<string, Set<string>>();
  for (const k of desired.keys) {
    const parsed = parsePublicKey(k.publicKey);
    if (!parsed) continue;
    let set = wanted.get(k.identityId);
    if (!set) {
      set = new Set();
      wanted.set(k.identityId, set);
    }
    set.add(parsed.fingerprint);
  }
  const desiredPeople = new Set(desired.users.map((u) => u.identityId));
  // People who lost all access keep their keys until their user is deleted (from the record, without a read).
  const toRead = [...(await ctx.slice(users)).byIdentity.values()].filter((u) => {
    if (!desiredPeople.has(u.identityId)) return false;
    if (ctx.opts.deepKeys) return true;
    const recorded = new Set(Object.values(u.keys));
    const want = wanted.get(u.identityId) ?? new Set<string>();
    return recorded.size !== want.size || [...want].some((fp) => !recorded.has(fp));
  });
  if (toRead.length === 0) return out;
  const nova = ctx.clients.nova();
  await mapLimit(toRead, ctx.clients.limiter.max, async (u) => {
    out.set(u.id, await nova.listKeypairs(u.id));
  });
  return out;
}

function sameKey(a: string, b: string): boolean {
  return a.trim().split(/\s+/).slice(0, 2).join(" ") === b.trim().split(/\s+/).slice(0, 2).join(" ");
}
