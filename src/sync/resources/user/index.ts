import { ArchwayError } from "../../../errors.js";
import { mapLimit, type UserWrite } from "../../../openstack/index.js";
import {
  DEPLOYMENT_ATTR,
  DISABLED_AT_ATTR,
  extraMark,
  extraMarks,
  IDENTITY_ATTR,
  KEY_VERSION_ATTR,
  KEYS_ATTR,
  type OwnedUser,
  ownedUser,
  SHADOW_USER_OPTIONS,
  shadowPassword,
  whose,
} from "../../ownership.js";
import type { ApplyContext, ObserveContext, SyncResource } from "../../resource.js";
import { domains, requireDomain } from "../domain/index.js";
import { adoptOnConflict, ignoreNotFound } from "../idempotent.js";
import { describeUserUpdate, planUsers } from "./plan.js";

/** What an `updateUser` changes; `password` means "derive with the current key version". */
export interface UserChanges {
  name?: string;
  email?: string;
  description?: string;
  enable?: boolean;
  password?: { from: number; to: number };
  options?: boolean;
  /** Adopted with the old mark: write this deployment's mark. */
  mark?: boolean;
}

/** The operations on shadow users. */
export type UserOperation =
  | {
      kind: "createUser";
      identityId: string;
      username: string;
      email?: string;
      displayName?: string;
      policies: string[];
    }
  | {
      kind: "updateUser";
      identityId: string;
      userId: string;
      username: string;
      changes: UserChanges;
      policies: string[];
    }
  | { kind: "disableUser"; identityId: string; userId: string; username: string; policies: string[] }
  | {
      kind: "deleteUser";
      identityId: string;
      userId: string;
      username: string;
      /** Keypairs Archway put in Nova for the user, deleted first (Nova does not notice deleted users). */
      keyNames: string[];
      policies: string[];
    };

/** Owned shadow users by identity id, and the names of users in Archway's domain that Archway does not own. */
export interface UsersObserved {
  byIdentity: Map<string, OwnedUser>;
  /** Name -> whose the user is. Never touched; a desired username among them is a problem, not an adoption. */
  foreignNames: Map<string, string>;
}

/** Shadow users in Archway's domain: created, kept in line, disabled when unwanted, deleted after the grace period. */
export const users: SyncResource<UserOperation, UsersObserved> = {
  name: "user",
  observe: observeUsers,
  plan: planUsers,
  steps: {
    createUser: {
      phase: "objects",
      action: () => "create",
      describe: (op) => `create user ${op.username}`,
      async apply(ctx, op) {
        const domainId = requireDomain(ctx);
        const ks = ctx.clients.keystone;
        const body = {
          name: op.username,
          domain_id: domainId,
          password: password(ctx, op.identityId),
          ...(op.email ? { email: op.email } : {}),
          ...(op.displayName ? { description: op.displayName } : {}),
          options: { ...SHADOW_USER_OPTIONS },
          ...extraMarks(ctx.ownership),
          [IDENTITY_ATTR]: op.identityId,
          [KEY_VERSION_ATTR]: ctx.keyVersion,
          [KEYS_ATTR]: {},
        };
        const user = await adoptOnConflict(
          () => ks.createUser(body),
          async () =>
            (await ks.listUsers({ domainId, name: op.username })).find(
              (u) => ownedUser(u, domainId, ctx.ownership)?.identityId === op.identityId,
            ),
        );
        userIds(ctx).set(op.identityId, user.id);
      },
    },
    updateUser: {
      phase: "objects",
      action: () => "update",
      describe: describeUserUpdate,
      async apply(ctx, op) {
        const c = op.changes;
        const body: UserWrite = {};
        if (c.name) body.name = c.name;
        if (c.email !== undefined) body.email = c.email || null;
        if (c.description !== undefined) body.description = c.description || null;
        if (c.enable) Object.assign(body, { enabled: true, [DISABLED_AT_ATTR]: null });
        if (c.password)
          Object.assign(body, { password: password(ctx, op.identityId), [KEY_VERSION_ATTR]: c.password.to });
        if (c.options) body.options = { ...SHADOW_USER_OPTIONS };
        if (c.mark) Object.assign(body, { [DEPLOYMENT_ATTR]: ctx.ownership.deploymentId });
        await ctx.clients.keystone.updateUser(op.userId, body);
      },
    },
    disableUser: {
      phase: "disable",
      action: () => "disable",
      describe: (op) => `disable user ${op.username} (no policy grants anything any more)`,
      async apply(ctx, op) {
        await ctx.clients.keystone.updateUser(op.userId, {
          enabled: false,
          [DISABLED_AT_ATTR]: ctx.now().toISOString(),
          // The deployment mark too: an adopted user with the old mark leaves it as this deployment's.
          [DEPLOYMENT_ATTR]: ctx.ownership.deploymentId,
        });
      },
    },
    deleteUser: {
      phase: "delete",
      action: () => "delete",
      describe: (op) => `delete user ${op.username} (disabled longer than the grace period)`,
      async apply(ctx, op) {
        const nova = ctx.clients.nova();
        for (const name of op.keyNames) await ignoreNotFound(() => nova.deleteKeypair(op.userId, name));
        await ignoreNotFound(() => ctx.clients.keystone.deleteUser(op.userId));
      },
    },
  },
};

async function observeUsers(ctx: ObserveContext): Promise<UsersObserved> {
  const out: UsersObserved = { byIdentity: new Map(), foreignNames: new Map() };
  const domainId = (await ctx.slice(domains)).id;
  if (!domainId) return out;
  const { people } = ctx.opts;
  const ks = ctx.clients.keystone;
  const list = people
    ? (
        await mapLimit(
          ctx.input.desired.users.filter((u) => people.has(u.identityId)),
          ctx.clients.limiter.max,
          (u) => ks.listUsers({ domainId, name: u.username }),
        )
      ).flat()
    : await ks.listUsers({ domainId });
  for (const user of list) {
    const ownership = ctx.input.ownership;
    const owned = ownedUser(user, domainId, ownership);
    if (owned && (!people || people.has(owned.identityId))) out.byIdentity.set(owned.identityId, owned);
    else if (!owned) out.foreignNames.set(user.name, whose(extraMark(user, domainId, ownership)));
  }
  return out;
}

function password(ctx: ApplyContext, identityId: string): string {
  return shadowPassword(ctx.passwordSecret, ctx.cloud.id, identityId, ctx.keyVersion);
}

/** User ids by identity id during an apply run: observed, plus those created in this run. */
function userIds(ctx: ApplyContext): Map<string, string> {
  return ctx.memo(observedUserIds);
}

function observedUserIds(ctx: ApplyContext): Map<string, string> {
  return new Map([...ctx.observed(users).byIdentity.values()].map((u) => [u.identityId, u.id]));
}

/** The shadow user of an identity during apply; throws `sync_unresolved` when an earlier step did not make it. */
export function userIdOf(ctx: ApplyContext, identityId: string): string {
  const id = userIds(ctx).get(identityId);
  if (!id)
    throw new ArchwayError(
      "sync_unresolved",
      `user of identity ${identityId} does not exist (an earlier step failed)`,
      409,
    );
  return id;
}

export { policiesOf, usableUsers } from "./plan.js";
