import type { KeystoneClient } from "./keystone.js";
import {
  type IdentityProvider,
  IdentityProviderSchema,
  listOf,
  type Mapping,
  MappingSchema,
  oneOf,
  type Protocol,
  ProtocolSchema,
} from "./keystone-schemas.js";

const enc = encodeURIComponent;

/**
 * Keystone OS-FEDERATION: identity providers, mappings and protocols (create/read/update/delete only; the
 * federated mode's sync decides what they should contain). PUT creates, so creating twice is idempotent.
 */
export class FederationClient {
  constructor(private readonly keystone: KeystoneClient) {}

  async listIdentityProviders(): Promise<IdentityProvider[]> {
    const schema = listOf("identity_providers", IdentityProviderSchema);
    const reply = await this.keystone.request({
      operation: "keystone.idp.list",
      method: "GET",
      path: "/OS-FEDERATION/identity_providers",
      schema,
    });
    return reply.items;
  }
  getIdentityProvider(id: string): Promise<IdentityProvider> {
    const path = `/OS-FEDERATION/identity_providers/${enc(id)}`;
    return this.keystone.request({
      operation: "keystone.idp.get",
      method: "GET",
      path,
      schema: oneOf("identity_provider", IdentityProviderSchema),
    });
  }
  createIdentityProvider(
    id: string,
    body: { remote_ids?: string[]; enabled?: boolean; description?: string; domain_id?: string },
  ): Promise<IdentityProvider> {
    const path = `/OS-FEDERATION/identity_providers/${enc(id)}`;
    const schema = oneOf("identity_provider", IdentityProviderSchema);
    return this.keystone.request({
      operation: "keystone.idp.create",
      method: "PUT",
      path,
      body: { identity_provider: body },
      schema,
    });
  }
  updateIdentityProvider(id: string, body: { remote_ids?: string[]; enabled?: boolean; description?: string }) {
    const path = `/OS-FEDERATION/identity_providers/${enc(id)}`;
    const schema = oneOf("identity_provider", IdentityProviderSchema);
    return this.keystone.request({
      operation: "keystone.idp.update",
      method: "PATCH",
      path,
      body: { identity_provider: body },
      schema,
    });
  }
  async deleteIdentityProvider(id: string): Promise<void> {
    const path = `/OS-FEDERATION/identity_providers/${enc(id)}`;
    await this.keystone.request({ operation: "keystone.idp.delete", method: "DELETE", path });
  }

  async listMappings(): Promise<Mapping[]> {
    const schema = listOf("mappings", MappingSchema);
    const reply = await this.keystone.request({
      operation: "keystone.mappings.list",
      method: "GET",
      path: "/OS-FEDERATION/mappings",
      schema,
    });
    return reply.items;
  }
  getMapping(id: string): Promise<Mapping> {
    const path = `/OS-FEDERATION/mappings/${enc(id)}`;
    return this.keystone.request({
      operation: "keystone.mappings.get",
      method: "GET",
      path,
      schema: oneOf("mapping", MappingSchema),
    });
  }
  createMapping(id: string, rules: unknown[]): Promise<Mapping> {
    const path = `/OS-FEDERATION/mappings/${enc(id)}`;
    const schema = oneOf("mapping", MappingSchema);
    return this.keystone.request({
      operation: "keystone.mappings.create",
      method: "PUT",
      path,
      body: { mapping: { rules } },
      schema,
    });
  }
  updateMapping(id: string, rules: unknown[]): Promise<Mapping> {
    const path = `/OS-FEDERATION/mappings/${enc(id)}`;
    const schema = oneOf("mapping", MappingSchema);
    return this.keystone.request({
      operation: "keystone.mappings.update",
      method: "PATCH",
      path,
      body: { mapping: { rules } },
      schema,
    });
  }
  async deleteMapping(id: string): Promise<void> {
    await this.keystone.request({
      operation: "keystone.mappings.delete",
      method: "DELETE",
      path: `/OS-FEDERATION/mappings/${enc(id)}`,
    });
  }

  async listProtocols(idpId: string): Promise<Protocol[]> {
    const path = `/OS-FEDERATION/identity_providers/${enc(idpId)}/protocols`;
    const reply = await this.keystone.request({
      operation: "keystone.protocols.list",
      method: "GET",
      path,
      schema: listOf("protocols", ProtocolSchema),
    });
    return reply.items;
  }
  createProtocol(idpId: string, protocolId: string, mappingId: string): Promise<Protocol> {
    const path = `/OS-FEDERATION/identity_providers/${enc(idpId)}/protocols/${enc(protocolId)}`;
    const schema = oneOf("protocol", ProtocolSchema);
    return this.keystone.request({
      operation: "keystone.protocols.create",
      method: "PUT",
      path,
      body: { protocol: { mapping_id: mappingId } },
      schema,
    });
  }
  updateProtocol(idpId: string, protocolId: string, mappingId: string): Promise<Protocol> {
    const path = `/OS-FEDERATION/identity_providers/${enc(idpId)}/protocols/${enc(protocolId)}`;
    const schema = oneOf("protocol", ProtocolSchema);
    return this.keystone.request({
      operation: "keystone.protocols.update",
      method: "PATCH",
      path,
      body: { protocol: { mapping_id: mappingId } },
      schema,
    });
  }
  async deleteProtocol(idpId: string, protocolId: string): Promise<void> {
    const path = `/OS-FEDERATION/identity_providers/${enc(idpId)}/protocols/${enc(protocolId)}`;
    await this.keystone.request({ operation: "keystone.protocols.delete", method: "DELETE", path });
  }
}
