import { z } from "zod";
import type { Transport } from "./http.js";
import type { KeystoneClient } from "./keystone.js";

/** Nova microversion that lets an admin act on another user's keypairs (`user_id`). */
export const KEYPAIR_MICROVERSION = "2.10";

export const KeypairSchema = z.looseObject({
  name: z.string(),
  public_key: z.string(),
  fingerprint: z.string().optional(),
  type: z.string().optional(),
  user_id: z.string().optional(),
});
export type Keypair = z.infer<typeof KeypairSchema>;

const ListSchema = z
  .object({ keypairs: z.array(z.object({ keypair: KeypairSchema })) })
  .transform((v) => v.keypairs.map((k) => k.keypair));
const OneSchema = z.object({ keypair: KeypairSchema }).transform((v) => v.keypair);

const enc = encodeURIComponent;

/**
 * Nova keypairs of any user, as the cloud's admin (microversion 2.10, `user_id`). Shares the Keystone client's
 * session, transport and concurrency limit; the compute URL comes from the admin token's catalog.
 */
export class NovaClient {
  private readonly headers = {
    "openstack-api-version": `compute ${KEYPAIR_MICROVERSION}`,
    "x-openstack-nova-api-version": KEYPAIR_MICROVERSION,
  };

  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: () => Promise<string>,
  ) {}

  /** Every keypair of `userId` (Nova does not paginate keypairs below microversion 2.35). */
  async listKeypairs(userId: string): Promise<Keypair[]> {
    return this.keystone.request(
      {
        operation: "nova.keypairs.list",
        method: "GET",
        path: `${await this.url()}/os-keypairs?user_id=${enc(userId)}`,
        headers: this.headers,
        schema: ListSchema,
      },
      this.transport,
    );
  }

  /** Imports a public key for `userId` under `name` (Nova rejects names outside `[A-Za-z0-9_- ]`). */
  async importKeypair(userId: string, name: string, publicKey: string): Promise<Keypair> {
    return this.keystone.request(
      {
        operation: "nova.keypairs.import",
        method: "POST",
        path: `${await this.url()}/os-keypairs`,
        headers: this.headers,
        body: { keypair: { name, public_key: publicKey, user_id: userId, type: "ssh" } },
        schema: OneSchema,
      },
      this.transport,
    );
  }

  async deleteKeypair(userId: string, name: string): Promise<void> {
    await this.keystone.request(
      {
        operation: "nova.keypairs.delete",
        method: "DELETE",
        path: `${await this.url()}/os-keypairs/${enc(name)}?user_id=${enc(userId)}`,
        headers: this.headers,
      },
      this.transport,
    );
  }
}
