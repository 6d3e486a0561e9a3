import { z } from "zod";
import { IdSchema, SecretSchema } from "./common.js";

const PasswordAdmin = z
  .object({
    username: z.string().min(1),
    password: SecretSchema,
    projectName: z.string().min(1).default("admin"),
    userDomainName: z.string().min(1).default("Default"),
    projectDomainName: z.string().min(1).default("Default"),
  })
  .strict();

const AppCredentialAdmin = z
  .object({ applicationCredentialId: z.string().min(1), applicationCredentialSecret: SecretSchema })
  .strict();

/** How Archway authenticates to a cloud's Keystone as an administrator. */
export const CloudAdminSchema = z.union([PasswordAdmin, AppCredentialAdmin]);
export type CloudAdmin = z.infer<typeof CloudAdminSchema>;

/**
 * How the proxy (`/clouds/<cloud>/...`) uses one cloud: at most `maxConnections` requests to it at once (a hung
 * cloud holds no more sockets than that), and a request that finds them all busy waits at most `queueMs` before
 * a 503 with `Retry-After` naming the cloud, so a bad cloud cannot starve the others.
 */
export const CloudProxySchema = z
  .object({
    maxConnections: z.number().int().positive().default(32),
    queueMs: z.number().int().nonnegative().default(2_000),
  })
  .strict();
export type CloudProxy = z.infer<typeof CloudProxySchema>;

/** One OpenStack cloud (its own Keystone, no shared database). */
export const CloudSchema = z
  .object({
    id: IdSchema.describe("Stable id of the cloud (lower-case, DNS-label-like): policies, tokens and marks use it."),
    /** Human-readable name shown on pages; defaults to the id. */
    name: z.string().optional().describe("Human-readable name shown on pages; defaults to the id."),
    authUrl: z
      .url({ protocol: /^https?$/, error: "expected an http(s) URL of the cloud's Keystone /v3" })
      .describe("The cloud's Keystone /v3 URL."),
    region: z.string().min(1).optional().describe("The cloud's region name in its catalog (and in the facade's)."),
    labels: z
      .record(z.string(), z.string())
      .default({})
      .describe("Free labels (site, region, tier...) that policies select clouds by."),
    mode: z
      .enum(["brokered", "federated"])
      .default("brokered")
      .describe("brokered: shadow users Archway logs in as; federated: the cloud trusts Archway as an OIDC provider."),
    admin: CloudAdminSchema.describe(
      "The credentials sync uses in this cloud (secrets as ${env:NAME} or ${file:PATH}).",
    ),
    /** Keystone domain that holds Archway's shadow users, groups and projects in this cloud. */
    domain: z
      .string()
      .min(1)
      .default("archway")
      .describe("Keystone domain that holds Archway's shadow users, groups and projects in this cloud."),
    /** Roles that exist in this cloud and policies may grant; empty means "use the global role list". */
    roles: z
      .array(z.string().min(1))
      .default([])
      .describe('Roles that exist in this cloud and policies may grant; empty means "use the global role list".'),
    interface: z.enum(["public", "internal", "admin"]).default("public"),
    caFile: z.string().optional(),
    timeoutMs: z.number().int().positive().default(10_000),
    /** Calls in flight at once to this cloud: by the sync's clients (every service together), and by token issue. */
    maxConcurrency: z.number().int().positive().default(8),
    /**
     * Sockets the sync's clients keep to each of this cloud's services (Keystone, Nova, Cinder, Neutron), at most
     * `maxConcurrency`; a call that finds them busy waits for one, within its `timeoutMs`. Each socket is a connect
     * and a close per run (a periodic run finds the last one's closed): 4 halved that cost of a converged resync
     * at a thousand clouds against 8 (BENCHMARKS.md, sync-scale).
     */
    connectionsPerService: z.number().int().positive().default(4),
    proxy: CloudProxySchema.default(() => CloudProxySchema.parse({})),
    /**
     * How long a request waits for the just-in-time provisioning of a person's account in this cloud before it
     * answers 503 "being provisioned" (`Retry-After`); provisioning goes on in the background.
     */
    provisionWaitMs: z
      .number()
      .int()
      .nonnegative()
      .default(10_000)
      .describe(
        'How long a request waits for the just-in-time provisioning of a person\'s account in this cloud before it answers 503 "being provisioned" (`Retry-After`); provisioning goes on in the background.',
      ),
    /**
     * Where grants' quotas go: `service` (Nova, Cinder and Neutron quota APIs) or `unified-limits` (Keystone
     * `/v3/limits` over registered limits, for clouds whose Nova and Cinder enforce them; Neutron has no unified
     * limits, so network quotas still go to Neutron's API).
     */
    quotaBackend: z.enum(["service", "unified-limits"]).default("service"),
    federation: z
      .object({
        identityProviderId: z.string().min(1).default("archway"),
        protocol: z.string().min(1).default("openid"),
        audience: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type CloudInput = z.input<typeof CloudSchema>;
export type Cloud = z.infer<typeof CloudSchema>;

/** The audience a federated cloud's mapping accepts in Archway's tokens: configured, else the cloud's auth URL. */
export function federationAudience(cloud: Cloud): string {
  return cloud.federation?.audience ?? cloud.authUrl;
}

/** A file in the clouds inventory folder (`clouds.d/*.yaml`). */
export const CloudInventoryFileSchema = z.object({ clouds: z.array(CloudSchema) }).strict();
