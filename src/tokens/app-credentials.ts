import { randomBytes } from "node:crypto";
import { z } from "zod";
import { ArchwayError } from "../errors.js";
import type { Identity } from "../identity/index.js";
import { createAppCredential, deleteAppCredential, isUpstreamStatus } from "../openstack/index.js";
import { getJson, type Store, setJson } from "../store/index.js";
import type { TokenBroker } from "./broker.js";
import type { FacadeProject } from "./entitlements.js";

const RecordSchema = z.object({
  id: z.string(),
  name: z.string(),
  cloudId: z.string(),
  /** The facade project name, `<cloud>:<project>`. */
  project: z.string(),
  userId: z.string(),
  createdAt: z.string(),
  /** When Keystone stops accepting it; absent only on records made before lifetimes were bounded. */
  expiresAt: z.string().optional(),
});
/** An application credential Archway made for a person (never its secret). */
export type AppCredentialRecord = z.infer<typeof RecordSchema>;
const ListSchema = z.array(RecordSchema);

/** A new credential: its record and the secret, shown once. */
export interface CreatedAppCredential {
  record: AppCredentialRecord;
  secret: string;
  authUrl: string;
  region?: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** The default {@link ApplicationCredentials} lifetime bound, in days (`web.appCredentialMaxDays`). */
export const APP_CREDENTIAL_MAX_DAYS = 90;

/**
 * Per-cloud Keystone application credentials a person asks for (for tools that must reach a cloud without Archway
 * in the path): made with the person's own brokered token in that cloud, as Keystone requires, listed from the
 * store, revoked on request. Archway keeps no secret: it is shown once. Every credential expires (Keystone's
 * `expires_at`) within `maxDays`: one that outlives the person's need would otherwise work until someone
 * remembers to revoke it, even after they leave (sync removes the shadow user, but only in clouds it reaches).
 */
export class ApplicationCredentials {
  constructor(private readonly deps: { broker: TokenBroker; store: Store; now?: () => Date; maxDays?: number }) {}

  /** The longest lifetime a credential may have, in days. */
  get maxDays(): number {
    return this.deps.maxDays ?? APP_CREDENTIAL_MAX_DAYS;
  }

  async list(identityId: string): Promise<AppCredentialRecord[]> {
    return (await getJson(this.deps.store, key(identityId), ListSchema)) ?? [];
  }

  /**
   * Makes a credential for `project` valid for `days` (the maximum when absent). A longer lifetime than the
   * maximum is refused (`lifetime_too_long`, 400) rather than shortened: a tool that asked for a year should learn
   * now, not when its credential stops working.
   */
  async create(identity: Identity, project: FacadeProject, days?: number): Promise<CreatedAppCredential> {
    const lifetime = days ?? this.maxDays;
    if (!Number.isInteger(lifetime) || lifetime < 1)
      throw new ArchwayError("invalid_request", "the lifetime must be a whole number of days, at least 1", 400);
    if (lifetime > this.maxDays)
      throw new ArchwayError(
        "lifetime_too_long",
        `application credentials live at most ${this.maxDays} days here; ask for ${this.maxDays} or fewer`,
        400,
      );
    const { cloud, transport, authUrl } = this.deps.broker.keystone(project.cloudId);
    if (cloud.mode !== "brokered")
      throw new ArchwayError("not_supported", `cloud ${cloud.id} is federated: use its OpenID login instead`, 400);
    const token = await this.deps.broker.projectToken(identity, project);
    const name = `archway-${project.keystoneName}-${randomBytes(4).toString("hex")}`.slice(0, 255);
    const now = this.deps.now?.() ?? new Date();
    const expiresAt = new Date(now.getTime() + lifetime * DAY_MS).toISOString();
    const created = await createAppCredential(
      transport,
      authUrl,
      { token: token.token, userId: token.userId },
      { name, description: `Made by Archway for ${identity.username} on request`, expires_at: expiresAt },
    );
    const record: AppCredentialRecord = {
      id: created.id,
      name: created.name,
      cloudId: cloud.id,
      project: project.name,
      userId: token.userId,
      createdAt: now.toISOString(),
      expiresAt,
    };
    await this.#save(identity.id, [...(await this.list(identity.id)), record]);
    return { record, secret: created.secret, authUrl, region: cloud.region };
  }

  /** Revokes one of the person's credentials in its cloud; false when it is not theirs. */
  async revoke(identity: Identity, id: string, projects: readonly FacadeProject[]): Promise<boolean> {
    const all = await this.list(identity.id);
    const record = all.find((r) => r.id === id);
    if (!record) return false;
    const project = projects.find((p) => p.name === record.project);
    const { transport, authUrl } = this.deps.broker.keystone(record.cloudId);
    if (project) {
      const token = await this.deps.broker.projectToken(identity, project);
      try {
        await deleteAppCredential(transport, authUrl, { token: token.token, userId: token.userId }, id);
      } catch (err) {
        if (!isUpstreamStatus(err, 404)) throw err;
      }
    }
    // Without the project any more, the person's access there is gone and Keystone refuses the credential anyway.
    await this.#save(
      identity.id,
      all.filter((r) => r.id !== id),
    );
    return true;
  }

  /**
   * Drops one record and resolves it (undefined when there was none): for an operator who deleted the credential
   * in its cloud with admin rights (the person's own token may be gone, e.g. while they are offboarded).
   */
  async forget(identityId: string, id: string): Promise<AppCredentialRecord | undefined> {
    const all = await this.list(identityId);
    const record = all.find((r) => r.id === id);
    if (record)
      await this.#save(
        identityId,
        all.filter((r) => r.id !== id),
      );
    return record;
  }

  async #save(identityId: string, records: AppCredentialRecord[]): Promise<void> {
    await setJson(this.deps.store, key(identityId), records);
  }
}

function key(identityId: string): string {
  return `appcreds:${identityId}`;
}
