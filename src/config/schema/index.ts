import { z } from "zod";
import { BreakerConfigSchema, CatalogConfigSchema } from "./catalog.js";
import { CloudSchema } from "./cloud.js";
import { SecretSchema } from "./common.js";
import { IdentitySourceSchema } from "./identity.js";
import { CLIENT_AUTH_LIMITS, IdpConfigSchema } from "./idp.js";
import { LockoutConfigSchema, TrustedProxySchema } from "./lockout.js";
import { MetricsConfigSchema, TelemetryConfigSchema } from "./observability.js";
import { OffboardConfigSchema } from "./offboard.js";
import { SigningAlgorithmSchema } from "./signing.js";
import { StoreConfigSchema } from "./store.js";
import { WebConfigSchema } from "./web.js";

export * from "./catalog.js";
export * from "./cloud.js";
export * from "./common.js";
export * from "./identity.js";
export * from "./idp.js";
export * from "./lockout.js";
export * from "./observability.js";
export * from "./offboard.js";
export * from "./signing.js";
export * from "./store.js";
export * from "./web.js";

export const SigningConfigSchema = z
  .object({
    /** Archway's own tokens (facade, access tokens) and ID tokens of clients that do not ask for another. */
    algorithm: SigningAlgorithmSchema.default("ES256").describe(
      "Archway's own tokens (facade, access tokens) and ID tokens of clients that do not ask for another.",
    ),
    /**
     * More algorithms with an active key in the same ring, for ID tokens of clients that ask for them
     * (`idTokenSignedResponseAlg`). RS256 by default: OpenID Connect Discovery requires providers to offer it.
     */
    additionalAlgorithms: z
      .array(SigningAlgorithmSchema)
      .default(["RS256"])
      .describe(
        "More algorithms with an active key in the same ring, for ID tokens of clients that ask for them (`idTokenSignedResponseAlg`). RS256 by default: OpenID Connect Discovery requires providers to offer it.",
      ),
    /** `store`: keys generated and rotated in the store; `files`: PEM/JWK files in `dir`. */
    keys: z
      .enum(["store", "files"])
      .default("store")
      .describe("`store`: keys generated and rotated in the store; `files`: PEM/JWK files in `dir`."),
    /** Folder of key files for `keys: files`, relative to the config file (absolute once loaded). */
    dir: z
      .string()
      .optional()
      .describe("Folder of key files for `keys: files`, relative to the config file (absolute once loaded)."),
    rotateAfterSeconds: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600),
    overlapSeconds: z
      .number()
      .int()
      .positive()
      .default(24 * 3600),
    accessTokenTtlSeconds: z.number().int().positive().default(900),
  })
  .strict();

/** Login sessions: every token, OAuth grant and brokered Keystone token hangs off one (see docs/tokens.md). */
export const SessionsConfigSchema = z
  .object({
    /** A session ends this long after sign-in, whatever happens. */
    absoluteSeconds: z
      .number()
      .int()
      .positive()
      .default(12 * 3600)
      .describe("A session ends this long after sign-in, whatever happens."),
    /** A session ends after this long without use. */
    idleSeconds: z
      .number()
      .int()
      .positive()
      .default(2 * 3600)
      .describe("A session ends after this long without use."),
  })
  .strict();

export const SyncConfigSchema = z
  .object({
    intervalSeconds: z.number().int().positive().default(900).describe("How often a full sync runs (seconds)."),
    /** How often workers sync the people the directory changed since the last look (0: never). */
    incrementalSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .describe("How often workers sync the people the directory changed since the last look (0: never)."),
    maxDeletesPerRun: z
      .object({ perCloud: z.number().int().min(0).default(20), total: z.number().int().min(0).default(200) })
      .strict()
      .default({ perCloud: 20, total: 200 })
      .describe(
        "Deletions (revoke, disable, delete) one run may make per cloud and in all; a cloud over it is refused, untouched.",
      ),
    disableGraceSeconds: z
      .number()
      .int()
      .min(0)
      .default(7 * 24 * 3600),
    concurrency: z
      .number()
      .int()
      .positive()
      .default(32)
      .describe("Clouds synced at once by one process (each with its own maxConcurrency and sockets)."),
    images: z
      .object({
        concurrencyPerCloud: z.number().int().positive().default(2),
        concurrencyTotal: z.number().int().positive().default(8),
        bandwidthPerCloud: z.number().int().positive().optional(),
        bandwidthTotal: z.number().int().positive().optional(),
      })
      .strict()
      .default({ concurrencyPerCloud: 2, concurrencyTotal: 8 })
      .describe(
        "ImageSet transfers of one process: uploads or imports at once per cloud and in all, and bandwidth caps in bytes per second per cloud and in all (absent: none).",
      ),
    /** Version of `secrets.shadowPasswordKey`; bump it to rotate every shadow password. */
    keyVersion: z
      .number()
      .int()
      .min(1)
      .default(1)
      .describe("Version of `secrets.shadowPasswordKey`; bump it to rotate every shadow password."),
    /**
     * Take over objects with Archway's mark from before deployment ids and re-mark them as this deployment's
     * (docs/sync.md, "Migration"). Only on the one deployment that made them; off by default.
     */
    adoptUnmarked: z
      .boolean()
      .optional()
      .describe(
        "Take over objects with Archway's mark from before deployment ids and re-mark them as this deployment's. Only on the one deployment that made them.",
      ),
  })
  .strict();

/** Limits of the HTTP server against slow or too many clients (docs/operations.md). */
export const HttpLimitsSchema = z
  .object({
    /** A request (headers and body) must arrive whole within this time, else 408 and the connection closes. */
    requestTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(30_000)
      .describe("A request (headers and body) must arrive whole within this time, else 408 and the connection closes."),
    /** The headers of a request must arrive within this time (at most `requestTimeoutMs`). */
    headersTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("The headers of a request must arrive within this time (at most `requestTimeoutMs`)."),
    /** An idle keep-alive connection is closed after this time. */
    keepAliveTimeoutMs: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe("An idle keep-alive connection is closed after this time."),
    /** Connections past this many are closed as soon as they open. */
    maxConnections: z
      .number()
      .int()
      .positive()
      .default(10_000)
      .describe("Connections past this many are closed as soon as they open."),
  })
  .strict();
export type HttpLimits = z.infer<typeof HttpLimitsSchema>;

export const ConfigSchema = z
  .object({
    /**
     * Demo mode: accept the public demo secrets of `config/secrets/` and weak keys. Allowed only with a loopback
     * listen address; every start prints a warning.
     */
    demo: z
      .boolean()
      .default(false)
      .describe(
        "Demo mode: accept the public demo secrets of `config/secrets/` and weak keys. Allowed only with a loopback listen address; every start prints a warning.",
      ),
    /**
     * Names this deployment in every mark it writes in the clouds (project tags, user and group attributes,
     * identity provider descriptions): deployments sharing a Keystone never touch each other's objects. Required
     * outside demo mode (demo: `demo`); never change it once objects exist (docs/sync.md).
     */
    deploymentId: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "a short slug: lowercase letters, digits and '-', at most 32, e.g. prod-eu")
      .optional()
      .describe(
        "Names this deployment in every mark it writes in the clouds; deployments sharing a Keystone never touch each other's objects. Required outside demo mode; never change it once objects exist.",
      ),
    listen: z
      .object({
        host: z.string().default("127.0.0.1").describe("Address the HTTP server listens on."),
        port: z.number().int().min(0).max(65535).default(8080).describe("Port the HTTP server listens on."),
        /** Serve https directly (PEM files), e.g. when relying parties such as mod_auth_openidc need https. */
        tls: z
          .object({ certFile: z.string().min(1), keyFile: z.string().min(1) })
          .strict()
          .optional()
          .describe("Serve https directly (PEM files), e.g. when relying parties such as mod_auth_openidc need https."),
      })
      .strict()
      .default({ host: "127.0.0.1", port: 8080 }),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("Externally visible base URL: the token issuer. Defaults to the listen address."),
    store: StoreConfigSchema.default({ type: "memory" }).describe(
      "Where sessions, caches, locks, counters and the audit stream live: memory (one process) or Redis.",
    ),
    signing: SigningConfigSchema.default({
      algorithm: "ES256",
      additionalAlgorithms: ["RS256"],
      keys: "store",
      rotateAfterSeconds: 7 * 24 * 3600,
      overlapSeconds: 24 * 3600,
      accessTokenTtlSeconds: 900,
    }),
    secrets: z
      .object({
        /** Key for HMAC-derived shadow-user passwords. */
        shadowPasswordKey: SecretSchema.optional().describe("Key for HMAC-derived shadow-user passwords."),
        /** Key that signs session cookies and CSRF tokens. */
        sessionKey: SecretSchema.optional().describe("Key that signs session cookies and CSRF tokens."),
        /**
         * Key that seals secrets kept in the store (brokered Keystone tokens, signing keys) with AES-256-GCM.
         * Without it, `shadowPasswordKey` is used (through its own HKDF label); without either, nothing is sealed.
         */
        storeKey: SecretSchema.optional().describe(
          "Key that seals secrets kept in the store (brokered Keystone tokens, signing keys) with AES-256-GCM. Without it, `shadowPasswordKey` is used (through its own HKDF label); without either, nothing is sealed.",
        ),
        /** Earlier store keys: they still open what they sealed, never seal (rotation, see docs/tokens.md). */
        previousStoreKeys: z
          .array(SecretSchema)
          .default([])
          .describe("Earlier store keys: they still open what they sealed, never seal (rotation, see docs/tokens.md)."),
      })
      .strict()
      .default({ previousStoreKeys: [] }),
    identity: z
      .object({
        sources: z
          .array(IdentitySourceSchema)
          .default([])
          .describe("Where people come from: static, ldap or oidc sources, each with a stable id."),
        /** Limits on failed sign-ins (see LockoutConfigSchema). */
        lockout: LockoutConfigSchema.default(() => LockoutConfigSchema.parse({})).describe(
          "Limits on failed sign-ins (see LockoutConfigSchema).",
        ),
      })
      .strict()
      .default({ sources: [], lockout: LockoutConfigSchema.parse({}) }),
    clouds: z.array(CloudSchema).default([]).describe("The OpenStack clouds (more can come from cloudsDir)."),
    /** Each cloud's catalog: refreshed in the background, served from the last good copy in the store. */
    catalog: CatalogConfigSchema.default({ refreshSeconds: 300, retrySeconds: 15, coldWaitMs: 2_000 }).describe(
      "Each cloud's catalog: refreshed in the background, served from the last good copy in the store.",
    ),
    /** Per-cloud circuit breaker (a cloud that hangs or is down is refused at once for a while). */
    breaker: BreakerConfigSchema.default({ failureThreshold: 3, openSeconds: 5, maxOpenSeconds: 300 }).describe(
      "Per-cloud circuit breaker (a cloud that hangs or is down is refused at once for a while).",
    ),
    sessions: SessionsConfigSchema.default({ absoluteSeconds: 12 * 3600, idleSeconds: 2 * 3600 }),
    /** Archway as an OpenID Provider: its relying parties (clients) and token lifetimes. */
    idp: IdpConfigSchema.default({
      clients: [],
      codeTtlSeconds: 60,
      idTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      deviceCodeTtlSeconds: 600,
      devicePollSeconds: 5,
      clientAuthentication: CLIENT_AUTH_LIMITS,
    }).describe("Archway as an OpenID Provider: its relying parties (clients) and token lifetimes."),
    /** Folder of extra cloud inventory files (`*.yaml`, each `{ clouds: [...] }`), relative to the config file. */
    cloudsDir: z
      .string()
      .optional()
      .describe(
        "Folder of extra cloud inventory files (`*.yaml`, each `{ clouds: [...] }`), relative to the config file.",
      ),
    /** Folder of policy files (`*.yaml`), relative to the config file. */
    policiesDir: z
      .string()
      .default("../policies")
      .describe("Folder of policy files (`*.yaml`), relative to the config file."),
    /** Roles any cloud may grant when it does not list its own. */
    roles: z
      .array(z.string().min(1))
      .default(["member", "reader", "admin"])
      .describe("Roles any cloud may grant when it does not list its own."),
    sync: SyncConfigSchema.default({
      intervalSeconds: 900,
      incrementalSeconds: 60,
      maxDeletesPerRun: { perCloud: 20, total: 200 },
      disableGraceSeconds: 7 * 24 * 3600,
      concurrency: 32,
      images: { concurrencyPerCloud: 2, concurrencyTotal: 8 },
      keyVersion: 1,
    }),
    /** Departures and disables found within a bound, and the kill switch (`archway offboard`). */
    offboard: OffboardConfigSchema.default({ detectSeconds: 60, maxDeparturesPerRun: 100, retrySeconds: 30 }).describe(
      "Departures and disables found within a bound, and the kill switch (`archway offboard`).",
    ),
    http: z
      .object({
        bodyLimitBytes: z
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        /** Trust `X-Forwarded-For` from these proxies (addresses or CIDR ranges) when computing the client address. */
        trustedProxies: z
          .array(TrustedProxySchema)
          .default([])
          .describe(
            "Trust `X-Forwarded-For` from these proxies (addresses or CIDR ranges) when computing the client address.",
          ),
      })
      .extend(HttpLimitsSchema.shape)
      .strict()
      .default({
        bodyLimitBytes: 1024 * 1024,
        trustedProxies: [],
        requestTimeoutMs: 30_000,
        headersTimeoutMs: 10_000,
        keepAliveTimeoutMs: 5_000,
        maxConnections: 10_000,
      }),
    /** The web pages (`/login`, `/`, `/admin`) and `/api/v1/`. */
    web: WebConfigSchema.default({
      sessionTtlSeconds: 8 * 3600,
      admins: {},
      auditors: {},
      appCredentialMaxDays: 90,
    }).describe("The web pages (`/login`, `/`, `/admin`) and `/api/v1/`."),
    log: z
      .object({
        level: z
          .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
          .default("info")
          .describe("Least severe log level written."),
      })
      .strict()
      .default({ level: "info" }),
    /** `/metrics` and the detailed `/readyz`: a listener of their own, or a bearer token (docs/operations.md). */
    metrics: MetricsConfigSchema.default({}),
    /** OpenTelemetry traces over OTLP/HTTP; off unless `otlpEndpoint` is set (docs/operations.md). */
    telemetry: TelemetryConfigSchema.default({ serviceName: "archway", sampleRatio: 1 }),
    reload: z
      .object({
        watch: z
          .boolean()
          .default(true)
          .describe("Reload when the config file, a clouds.d file or a policy file changes (SIGHUP reloads always)."),
        debounceMs: z
          .number()
          .int()
          .min(0)
          .max(60_000)
          .default(500)
          .describe("Changes closer together than this are one reload (an editor's save writes several times)."),
      })
      .strict()
      .default({ watch: true, debounceMs: 500 })
      .describe("How serve and worker take changed files without a restart (docs/operations.md)."),
    /** How `serve` and `worker` stop on SIGTERM/SIGINT (docs/operations.md). */
    shutdown: z
      .object({
        /**
         * How long in-flight requests and sync jobs may run on after the signal; then requests get a 503 and jobs
         * go back to the queue. A second signal stops at once.
         */
        drainSeconds: z
          .number()
          .min(0)
          .max(3600)
          .default(30)
          .describe(
            "How long in-flight requests and sync jobs may run on after the signal; then requests get a 503 and jobs go back to the queue. A second signal stops at once.",
          ),
      })
      .strict()
      .default({ drainSeconds: 30 })
      .describe("How `serve` and `worker` stop on SIGTERM/SIGINT (docs/operations.md)."),
  })
  .strict();

/**
 * Externally visible base URL, without a trailing slash: `publicUrl`, else the listen address. It is the issuer of
 * Archway's tokens and the `remote_ids` federated clouds trust.
 */
export function publicUrlOf(config: Pick<Config, "publicUrl" | "listen">): string {
  const scheme = config.listen.tls ? "https" : "http";
  return (config.publicUrl ?? `${scheme}://${config.listen.host}:${config.listen.port}`).replace(/\/$/, "");
}

/** The whole configuration after defaults; clouds include those from `cloudsDir`. */
export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;
