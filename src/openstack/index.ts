/**
 * OpenStack clients: a typed Keystone v3 admin client (auth, catalog, domains, projects with tags, users with
 * extra attributes and options, groups, roles, role assignments, OS-FEDERATION), a Nova keypairs client
 * (microversion 2.10, `user_id`), quota clients for Nova, Cinder and Neutron, and Keystone unified limits
 * (system scope). `createCloudClients` builds them for one configured cloud.
 */
import type { Cloud } from "../config/index.js";
import { isArchwayError } from "../errors.js";
import type { CloudBreakers } from "./breaker.js";
import { FederationClient } from "./federation.js";
import { FlavorClient } from "./flavors.js";
import { bulkPools, GlanceClient } from "./glance.js";
import { type RequestEvent, type RetryPolicy, Transport } from "./http.js";
import { KeystoneClient } from "./keystone.js";
import { Limiter } from "./limiter.js";
import { LimitsClient } from "./limits.js";
import { NovaClient } from "./nova.js";
import { CloudPool } from "./pool.js";
import { CinderQuotaClient, NeutronQuotaClient, NovaQuotaClient } from "./quotas.js";
import { SecurityGroupClient } from "./security-groups.js";
import { adminAuth, type KeystoneAuth, KeystoneSession, systemAuth } from "./session.js";

export {
  type AppCredential,
  createAppCredential,
  deleteAppCredential,
  findAppCredentials,
} from "./app-credentials.js";
export {
  BREAKER_STATE_VALUE,
  type BreakerChange,
  type BreakerSettings,
  type BreakerState,
  CircuitBreaker,
  CloudBreakers,
  configuredBreakers,
  DEFAULT_BREAKER,
  registerBreakerMetrics,
} from "./breaker.js";
export { endpointFor } from "./catalog.js";
export { codeForStatus, isUpstreamStatus, OpenStackError, type OpenStackService } from "./errors.js";
export { FederationClient } from "./federation.js";
export { FLAVOR_MICROVERSION, FlavorClient, type FlavorCreate } from "./flavors.js";
export type { ExtraSpecs, Flavor } from "./flavors-schemas.js";
export * from "./glance.js";
export { createAgent, type RequestEvent, type RetryPolicy, Transport, type TransportOptions } from "./http.js";
export { type AssignmentFilter, KeystoneClient, type ProjectWrite, type UserWrite } from "./keystone.js";
export type {
  CatalogEntry,
  Domain,
  Group,
  IdentityProvider,
  Mapping,
  Project,
  Protocol,
  Role,
  RoleAssignment,
  User,
} from "./keystone-schemas.js";
export { CatalogEntrySchema } from "./keystone-schemas.js";
export { Limiter, mapLimit } from "./limiter.js";
export { effectiveLimits, type LimitFilter, LimitsClient } from "./limits.js";
export { KEYPAIR_MICROVERSION, type Keypair, NovaClient } from "./nova.js";
export {
  type Limit,
  LimitSchema,
  NeutronQuotaDetailsReplySchema,
  NeutronQuotaReplySchema,
  type QuotaLimits,
  QuotaSetReplySchema,
  QuotaSetUsageReplySchema,
  type QuotaUsage,
  type QuotaUsageEntry,
  type RegisteredLimit,
  RegisteredLimitSchema,
} from "./quota-schemas.js";
export {
  CinderQuotaClient,
  NeutronQuotaClient,
  NovaQuotaClient,
  QUOTA_MICROVERSION,
  type QuotaClient,
} from "./quotas.js";
export {
  type SecurityGroup,
  SecurityGroupClient,
  type SecurityGroupRuleReply,
  type SecurityGroupRuleWrite,
} from "./security-groups.js";
export {
  adminAuth,
  authBody,
  federatedToken,
  type IssuedToken,
  issueToken,
  type KeystoneAuth,
  KeystoneSession,
  systemAuth,
} from "./session.js";

/** The clients of one cloud, sharing one admin session, one connection pool and one concurrency limit. */
export interface CloudClients {
  readonly cloud: Cloud;
  readonly keystone: KeystoneClient;
  /** Nova keypairs; the compute URL is looked up in the catalog on first use. */
  nova(): NovaClient;
  federation(): FederationClient;
  /** Nova flavors, extra specs and access lists; the compute URL is looked up in the catalog on first use. */
  flavors(): FlavorClient;
  /** Quotas: Nova `os-quota-sets`, Cinder `os-quota-sets`, Neutron `quotas`; URLs from the catalog on first use. */
  quotas(): { compute: NovaQuotaClient; volume: CinderQuotaClient; network: NeutronQuotaClient };
  /** Keystone unified limits, through a system-scoped admin session of its own. */
  limits(): LimitsClient;
  /** Neutron security groups and rules; the network URL is looked up in the catalog on first use. */
  securityGroups(): SecurityGroupClient;
  /** Glance v2 images; JSON calls share the cloud's pool and limit, uploads and downloads get a pool of their own. */
  images(): GlanceClient;
  readonly limiter: Limiter;
  /** Closes the connection pool. */
  close(): Promise<void>;
}

/** Options shared by every cloud's clients. */
export interface CloudClientOptions {
  /** Called once per HTTP attempt: count and time requests (tests, benchmarks, metrics). */
  onRequest?: (event: RequestEvent) => void;
  retry?: Partial<RetryPolicy>;
  /** Override the admin auth (e.g. a token); defaults to the cloud's `admin` configuration. */
  auth?: KeystoneAuth;
  now?: () => number;
  random?: () => number;
  /** The process's breakers: the cloud's one guards every call of these clients. */
  breakers?: CloudBreakers;
}

/**
 * Sockets a cloud's clients keep to each of its services: `connectionsPerService`, never more than the calls its
 * limiter lets through (a socket more only opens while a finished one is being handed back).
 */
export function socketsPerService(cloud: Pick<Cloud, "connectionsPerService" | "maxConcurrency">): number {
  return Math.min(cloud.connectionsPerService, cloud.maxConcurrency);
}

/** Builds the clients of `cloud`. Nothing is sent until the first call. */
export function createCloudClients(cloud: Cloud, opts: CloudClientOptions = {}): CloudClients {
  // Every client of the cloud shares both: the limiter caps the calls in flight, the pool the sockets per service.
  const agent = new CloudPool(socketsPerService(cloud));
  const limiter = new Limiter(cloud.maxConcurrency);
  const base = {
    cloudId: cloud.id,
    limiter,
    timeoutMs: cloud.timeoutMs,
    dispatcher: agent,
    onRequest: opts.onRequest,
    retry: opts.retry,
    random: opts.random,
    breaker: opts.breakers?.get(cloud.id),
  };
  const keystoneTransport = new Transport({ ...base, service: "keystone" });
  const authUrl = cloud.authUrl.replace(/\/+$/, "");
  const session = new KeystoneSession(keystoneTransport, authUrl, opts.auth ?? adminAuth(cloud.admin), opts.now);
  const keystone = new KeystoneClient(keystoneTransport, authUrl, session);
  let nova: NovaClient | undefined;
  let federation: FederationClient | undefined;
  let flavors: FlavorClient | undefined;
  let quotas: ReturnType<CloudClients["quotas"]> | undefined;
  let limits: LimitsClient | undefined;
  let securityGroups: SecurityGroupClient | undefined;
  let images: { glance: GlanceClient; close: () => Promise<void> } | undefined;
  // One catalog lookup per service type, shared by the clients of that service. A failed lookup (cloud down)
  // must not stick: the next call tries again.
  const urls = new Map<string, Promise<string>>();
  const where = { interface: cloud.interface, region: cloud.region };
  const endpoint = (type: string, alias?: string) => () => {
    let url = urls.get(type);
    if (!url) {
      // `alias`: the same service under its newer type name (`block-storage` for `volumev3`), as keystoneauth does.
      url = keystone
        .endpoint(type, where)
        .catch((err) =>
          alias && isArchwayError(err) && err.code === "endpoint_not_found"
            ? keystone.endpoint(alias, where)
            : Promise.reject(err),
        );
      url.catch(() => urls.delete(type));
      urls.set(type, url);
    }
    return url;
  };
  return {
    cloud,
    keystone,
    limiter,
    nova() {
      nova ??= new NovaClient(keystone, new Transport({ ...base, service: "nova" }), endpoint("compute"));
      return nova;
    },
    quotas() {
      quotas ??= {
        compute: new NovaQuotaClient(keystone, new Transport({ ...base, service: "nova" }), endpoint("compute")),
        volume: new CinderQuotaClient(
          keystone,
          new Transport({ ...base, service: "cinder" }),
          endpoint("volumev3", "block-storage"),
        ),
        network: new NeutronQuotaClient(keystone, new Transport({ ...base, service: "neutron" }), endpoint("network")),
      };
      return quotas;
    },
    limits() {
      if (!limits) {
        const auth = systemAuth(opts.auth ?? adminAuth(cloud.admin));
        const systemSession = new KeystoneSession(keystoneTransport, authUrl, auth, opts.now);
        limits = new LimitsClient(new KeystoneClient(keystoneTransport, authUrl, systemSession));
      }
      return limits;
    },
    federation() {
      federation ??= new FederationClient(keystone);
      return federation;
    },
    flavors() {
      flavors ??= new FlavorClient(keystone, new Transport({ ...base, service: "nova" }), endpoint("compute"));
      return flavors;
    },
    securityGroups() {
      securityGroups ??= new SecurityGroupClient(
        keystone,
        new Transport({ ...base, service: "neutron" }),
        endpoint("network"),
      );
      return securityGroups;
    },
    images() {
      if (!images) {
        const pools = bulkPools();
        const glance = new GlanceClient(
          keystone,
          new Transport({ ...base, service: "glance" }),
          endpoint("image"),
          pools,
        );
        images = { glance, close: pools.close };
      }
      return images.glance;
    },
    close: async () => {
      await Promise.all([agent.close(), images?.close()]);
    },
  };
}
