import { z } from "zod";
import { type CloudClients, isUpstreamStatus, type User } from "../openstack/index.js";
import { DISABLED_AT_ATTR, idpOwner, type Ownership, ownedUser } from "../sync/index.js";

/** The person being offboarded or restored: the stable identity id and the last known username. */
export interface Person {
  /** `<source>:<immutable id>`, as every token and shadow user names them. */
  id: string;
  /** Last known username (the shadow user's name in brokered clouds); empty when unknown. */
  username: string;
}

/** What offboarding changed in one cloud. */
export interface CloudChange {
  /** Shadow users (brokered) or federated users disabled, or re-enabled by a restore. */
  users: number;
  /** Application credentials deleted. */
  appCredentials: number;
}

const AppCredentialList = z.object({ application_credentials: z.array(z.looseObject({ id: z.string() })) });
const FederatedUsers = z.object({
  users: z.array(z.looseObject({ id: z.string(), enabled: z.boolean().optional() })),
});

/**
 * Finds the users standing for `person` in one cloud. Brokered: Archway's shadow users in the cloud's domain,
 * by name first (one filtered list call) and by the identity mark on every owned user when the name is unknown
 * or was reused. Federated: the users Keystone made at federated login, keyed by the identity provider and the
 * `sub` of Archway's tokens, which is the identity id.
 */
async function usersOf(
  clients: CloudClients,
  person: Person,
  domainId: () => Promise<string | undefined>,
  ownership: Ownership,
): Promise<{ id: string; enabled: boolean; disabledAt?: string }[]> {
  const { cloud, keystone } = clients;
  if (cloud.mode === "federated") {
    const idp = cloud.federation?.identityProviderId ?? "archway";
    // Users of another deployment's identity provider (same id on a shared Keystone) are that deployment's.
    const provider = (await clients.federation().listIdentityProviders()).find((i) => i.id === idp);
    if (!provider || idpOwner(provider.description, ownership).owner !== "self") return [];
    const q = `idp_id=${encodeURIComponent(idp)}&unique_id=${encodeURIComponent(person.id)}`;
    const reply = await keystone.request({
      operation: "keystone.users.list",
      method: "GET",
      path: `/users?${q}`,
      schema: FederatedUsers,
    });
    return reply.users.map((u) => ({ id: u.id, enabled: u.enabled !== false }));
  }
  const domain = await domainId();
  if (!domain) return [];
  const mine = (users: User[]) =>
    users.flatMap((u) => {
      const owned = ownedUser(u, domain, ownership);
      return owned && owned.identityId === person.id ? [owned] : [];
    });
  const byName = person.username ? mine(await keystone.listUsers({ domainId: domain, name: person.username })) : [];
  return byName.length > 0 ? byName : mine(await keystone.listUsers({ domainId: domain }));
}

/**
 * Offboards a person in one cloud: every user standing for them is disabled (Keystone then refuses their
 * existing tokens and application credentials at once), then their application credentials are deleted. A
 * brokered shadow user keeps the time it was first disabled, so sync's grace rule deletes it (and its SSH keys)
 * later. Throws when the cloud cannot be reached: the caller queues the person for that cloud.
 */
export async function offboardInCloud(
  clients: CloudClients,
  person: Person,
  opts: { now: () => Date; domainId: () => Promise<string | undefined>; ownership: Ownership },
): Promise<CloudChange> {
  const { keystone } = clients;
  const users = await usersOf(clients, person, opts.domainId, opts.ownership);
  const change: CloudChange = { users: 0, appCredentials: 0 };
  await Promise.all(
    users.map(async (user) => {
      if (user.enabled) {
        await keystone.updateUser(user.id, {
          enabled: false,
          ...(clients.cloud.mode === "federated"
            ? {}
            : { [DISABLED_AT_ATTR]: user.disabledAt ?? opts.now().toISOString() }),
        });
        change.users++;
      }
      const path = `/users/${encodeURIComponent(user.id)}/application_credentials`;
      const creds = await keystone.request({
        operation: "keystone.application_credentials.list",
        method: "GET",
        path,
        schema: AppCredentialList,
      });
      for (const cred of creds.application_credentials) {
        try {
          await keystone.request({
            operation: "keystone.application_credentials.delete",
            method: "DELETE",
            path: `${path}/${encodeURIComponent(cred.id)}`,
          });
          change.appCredentials++;
        } catch (err) {
          if (!isUpstreamStatus(err, 404)) throw err;
        }
      }
    }),
  );
  return change;
}

/**
 * Undoes {@link offboardInCloud} in one cloud: the person's users are enabled again (and lose the disabled-at
 * mark, so no grace deletion follows). Deleted application credentials and ended sessions stay gone.
 */
export async function restoreInCloud(
  clients: CloudClients,
  person: Person,
  opts: { domainId: () => Promise<string | undefined>; ownership: Ownership },
): Promise<CloudChange> {
  const users = await usersOf(clients, person, opts.domainId, opts.ownership);
  let restored = 0;
  for (const user of users) {
    if (user.enabled) continue;
    await clients.keystone.updateUser(user.id, {
      enabled: true,
      ...(clients.cloud.mode === "federated" ? {} : { [DISABLED_AT_ATTR]: null }),
    });
    restored++;
  }
  return { users: restored, appCredentials: 0 };
}
