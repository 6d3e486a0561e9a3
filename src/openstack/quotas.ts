import type { Transport } from "./http.js";
import type { KeystoneClient } from "./keystone.js";
import {
  NeutronQuotaDetailsReplySchema,
  NeutronQuotaReplySchema,
  type QuotaLimits,
  QuotaSetReplySchema,
  QuotaSetUsageReplySchema,
  type QuotaUsage,
} from "./quota-schemas.js";

/**
 * Nova microversion of quota calls: from 2.57 the set holds only what Nova itself counts (no network-proxied
 * `fixed_ips`, `floating_ips`, `security_groups`, `networks`, no `injected_file*`), so it matches the config shape.
 */
export const QUOTA_MICROVERSION = "2.57";

/** The quota API of one service in one cloud, as the cloud's admin, for any project. */
export interface QuotaClient {
  /** The project's limits (defaults included). */
  get(projectId: string): Promise<QuotaLimits>;
  /** The project's limits and what it uses. */
  usage(projectId: string): Promise<QuotaUsage>;
  /** Sets the given limits (others unchanged) and answers the whole set as the service now has it. */
  set(projectId: string, limits: QuotaLimits): Promise<QuotaLimits>;
  /** Drops the project's own limits: the service's defaults apply again. */
  reset(projectId: string): Promise<void>;
}

const enc = encodeURIComponent;
type Url = () => Promise<string>;

/**
 * Nova `os-quota-sets` (microversion {@link QUOTA_MICROVERSION}); usage from `/detail`. Shares the Keystone
 * client's admin session and the cloud's concurrency limit; the compute URL comes from the admin token's catalog.
 */
export class NovaQuotaClient implements QuotaClient {
  private readonly headers = {
    "openstack-api-version": `compute ${QUOTA_MICROVERSION}`,
    "x-openstack-nova-api-version": QUOTA_MICROVERSION,
  };

  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: Url,
  ) {}

  async get(projectId: string): Promise<QuotaLimits> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    const spec = { operation: "nova.quotas.get", method: "GET", path, headers: this.headers } as const;
    return this.keystone.request({ ...spec, schema: QuotaSetReplySchema }, this.transport);
  }

  async usage(projectId: string): Promise<QuotaUsage> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}/detail`;
    const spec = { operation: "nova.quotas.usage", method: "GET", path, headers: this.headers } as const;
    return this.keystone.request({ ...spec, schema: QuotaSetUsageReplySchema }, this.transport);
  }

  async set(projectId: string, limits: QuotaLimits): Promise<QuotaLimits> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    const body = { quota_set: limits };
    const spec = { operation: "nova.quotas.set", method: "PUT", path, headers: this.headers, body } as const;
    return this.keystone.request({ ...spec, schema: QuotaSetReplySchema }, this.transport);
  }

  async reset(projectId: string): Promise<void> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    await this.keystone.request(
      { operation: "nova.quotas.reset", method: "DELETE", path, headers: this.headers },
      this.transport,
    );
  }
}

/**
 * Cinder v3 `os-quota-sets`; usage from `?usage=true`. The volumev3 URL of the admin token's catalog already names
 * the admin's project (`/v3/<project_id>`); the target project is the path's last part.
 */
export class CinderQuotaClient implements QuotaClient {
  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: Url,
  ) {}

  async get(projectId: string): Promise<QuotaLimits> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    return this.keystone.request(
      { operation: "cinder.quotas.get", method: "GET", path, schema: QuotaSetReplySchema },
      this.transport,
    );
  }

  async usage(projectId: string): Promise<QuotaUsage> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}?usage=true`;
    return this.keystone.request(
      { operation: "cinder.quotas.usage", method: "GET", path, schema: QuotaSetUsageReplySchema },
      this.transport,
    );
  }

  async set(projectId: string, limits: QuotaLimits): Promise<QuotaLimits> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    return this.keystone.request(
      { operation: "cinder.quotas.set", method: "PUT", path, body: { quota_set: limits }, schema: QuotaSetReplySchema },
      this.transport,
    );
  }

  async reset(projectId: string): Promise<void> {
    const path = `${await this.url()}/os-quota-sets/${enc(projectId)}`;
    await this.keystone.request({ operation: "cinder.quotas.reset", method: "DELETE", path }, this.transport);
  }
}

/** Neutron `/v2.0/quotas`; usage from `/v2.0/quotas/{id}/details` (the `quota_details` extension). */
export class NeutronQuotaClient implements QuotaClient {
  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    private readonly url: Url,
  ) {}

  async get(projectId: string): Promise<QuotaLimits> {
    const path = `${await this.url()}/v2.0/quotas/${enc(projectId)}`;
    return this.keystone.request(
      { operation: "neutron.quotas.get", method: "GET", path, schema: NeutronQuotaReplySchema },
      this.transport,
    );
  }

  async usage(projectId: string): Promise<QuotaUsage> {
    const path = `${await this.url()}/v2.0/quotas/${enc(projectId)}/details`;
    return this.keystone.request(
      { operation: "neutron.quotas.usage", method: "GET", path, schema: NeutronQuotaDetailsReplySchema },
      this.transport,
    );
  }

  async set(projectId: string, limits: QuotaLimits): Promise<QuotaLimits> {
    const path = `${await this.url()}/v2.0/quotas/${enc(projectId)}`;
    return this.keystone.request(
      {
        operation: "neutron.quotas.set",
        method: "PUT",
        path,
        body: { quota: limits },
        schema: NeutronQuotaReplySchema,
      },
      this.transport,
    );
  }

  async reset(projectId: string): Promise<void> {
    const path = `${await this.url()}/v2.0/quotas/${enc(projectId)}`;
    await this.keystone.request({ operation: "neutron.quotas.reset", method: "DELETE", path }, this.transport);
  }
}
