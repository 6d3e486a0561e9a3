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

/**
 * Per-cloud Keystone application credentials a person asks for (for tools that must reach a cloud without Archway
 * in the path): made with the person's own brokered token in that cloud, as Keystone requires, listed from the
 * store, revoked on request. Archway keeps no secret: it is shown once.
 */
export class ApplicationCredentials {
  constructor(private readonly deps: { broker: TokenBroker; store: Store; now?: () => Date }) {}

  async list(identityId: string): Promise<AppCredentialRecord[]> {
    return (await getJson(this.deps.store, key(identityId), ListSchema)) ?? [];
  }

  async create(identity: Identity, project: FacadeProject): Promise<CreatedAppCredential> {
    const { cloud, transport, authUrl } = this.deps.broker.keystone(project.cloudId);
    if (cloud.mode !== "brokered")
      throw new ArchwayError("not_supported", `cloud ${cloud.id} is federated: use its OpenID login instead`, 400);
    const token = await this.deps.broker.projectToken(identity, project);
    const name = `archway-${project.keystoneName}-${randomBytes(4).toString("hex")}`.slice(0, 255);
    const created = await createAppCredential(
      transport,
      authUrl,
      { token: token.token, userId: token.userId },
      { name, description: `Made by Archway for ${identity.username} on request` },
    );
    const record: AppCredentialRecord = {
      id: created.id,
      name: created.name,
      cloudId: cloud.id,
      project: project.name,
      userId: token.userId,
      createdAt: (this.deps.now?.() ?? new Date()).toISOString(),
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
