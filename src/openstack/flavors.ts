import type { z } from "zod";
import {
  type ExtraSpecs,
  ExtraSpecsReplySchema,
  type Flavor,
  FlavorAccessReplySchema,
  FlavorPageSchema,
  OneFlavorSchema,
} from "./flavors-schemas.js";
import type { Transport } from "./http.js";
import type { KeystoneClient } from "./keystone.js";

/**
 * Nova microversion of flavor calls: 2.55 brings flavor descriptions (create, update in place), 2.61 answers every
 * flavor with its extra specs, so one list call reads a whole cloud's flavors.
 */
export const FLAVOR_MICROVERSION = "2.61";

/** What a flavor is created with (sizes in Nova's units: MiB of RAM and swap, GiB of disk and ephemeral). */
export interface FlavorCreate {
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  isPublic: boolean;
  description?: string;
}

const enc = encodeURIComponent;

/**
 * Nova flavors, their extra specs and their access lists, as the cloud's admin (microversion
 * {@link FLAVOR_MICROVERSION}). Shares the Keystone client's admin session and the cloud's concurrency limit; the
 * compute URL comes from the admin token's catalog.
 */
export class FlavorClient {
  private readonly headers = {
    "openstack-api-version": `compute ${FLAVOR_MICROVERSION}`,
    "x-openstack-nova-api-version": FLAVOR_MICROVERSION,
  };

  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: () => Promise<string>,
  ) {}

  /** Every flavor, public and private (`is_public=None`), with extra specs; follows Nova's pages. */
  async list(): Promise<Flavor[]> {
    const out: Flavor[] = [];
    for (let marker: string | undefined; ; ) {
      const page = await this.keystone.request(
        {
          operation: "nova.flavors.list",
          method: "GET",
          path: `${await this.url()}/flavors/detail?is_public=None${marker ? `&marker=${enc(marker)}` : ""}`,
          headers: this.headers,
          schema: FlavorPageSchema,
        },
        this.transport,
      );
      out.push(...page.flavors);
      const last = page.flavors.at(-1);
      if (!page.more || !last) return out;
      marker = last.id;
    }
  }

  /** Creates a flavor; Nova picks its id (a UUID). 409 when the name is taken. */
  async create(f: FlavorCreate): Promise<Flavor> {
    const flavor = {
      name: f.name,
      vcpus: f.vcpus,
      ram: f.ram,
      disk: f.disk,
      "OS-FLV-EXT-DATA:ephemeral": f.ephemeral,
      swap: f.swap,
      "os-flavor-access:is_public": f.isPublic,
      ...(f.description !== undefined ? { description: f.description } : {}),
    };
    return this.call("nova.flavors.create", "POST", "/flavors", { flavor }, OneFlavorSchema);
  }

  /** Deletes a flavor (servers built from it keep their copy of it). */
  async delete(id: string): Promise<void> {
    await this.call("nova.flavors.delete", "DELETE", `/flavors/${enc(id)}`);
  }

  /** Sets a flavor's description (null clears it): the one field Nova changes in place. */
  async updateDescription(id: string, description: string | null): Promise<Flavor> {
    const body = { flavor: { description } };
    return this.call("nova.flavors.update", "PUT", `/flavors/${enc(id)}`, body, OneFlavorSchema);
  }

  /** A flavor's extra specs. */
  async extraSpecs(id: string): Promise<ExtraSpecs> {
    return this.call(
      "nova.flavors.extraSpecs.get",
      "GET",
      `/flavors/${enc(id)}/os-extra_specs`,
      undefined,
      ExtraSpecsReplySchema,
    );
  }

  /** Sets these extra specs (added or overwritten; the others stay). */
  async setExtraSpecs(id: string, specs: ExtraSpecs): Promise<ExtraSpecs> {
    const path = `/flavors/${enc(id)}/os-extra_specs`;
    // Setting the same values again changes nothing: safe to resend after a reset connection.
    return this.call("nova.flavors.extraSpecs.set", "POST", path, { extra_specs: specs }, ExtraSpecsReplySchema, true);
  }

  /** Removes one extra spec (404 when it is not there). */
  async unsetExtraSpec(id: string, key: string): Promise<void> {
    await this.call("nova.flavors.extraSpecs.unset", "DELETE", `/flavors/${enc(id)}/os-extra_specs/${enc(key)}`);
  }

  /** The project ids a private flavor is for (Nova refuses the call for a public flavor). */
  async access(id: string): Promise<string[]> {
    const path = `/flavors/${enc(id)}/os-flavor-access`;
    return this.call("nova.flavors.access.list", "GET", path, undefined, FlavorAccessReplySchema);
  }

  /** Lets a project use a private flavor (409 when it already may; 400 when Keystone does not know the project). */
  async addAccess(id: string, projectId: string): Promise<string[]> {
    const body = { addTenantAccess: { tenant: projectId } };
    return this.call("nova.flavors.access.add", "POST", `/flavors/${enc(id)}/action`, body, FlavorAccessReplySchema);
  }

  /** Takes a private flavor away from a project (404 when it had no access). */
  async removeAccess(id: string, projectId: string): Promise<string[]> {
    const body = { removeTenantAccess: { tenant: projectId } };
    return this.call("nova.flavors.access.remove", "POST", `/flavors/${enc(id)}/action`, body, FlavorAccessReplySchema);
  }

  private async call<S extends z.ZodType | undefined = undefined>(
    operation: string,
    method: "GET" | "POST" | "PUT" | "DELETE",
    path: string,
    body?: unknown,
    schema?: S,
    idempotent?: boolean,
  ) {
    return this.keystone.request(
      {
        operation,
        method,
        path: `${await this.url()}${path}`,
        headers: this.headers,
        ...(body !== undefined ? { body } : {}),
        ...(idempotent !== undefined ? { idempotent } : {}),
        schema,
      },
      this.transport,
    );
  }
}
