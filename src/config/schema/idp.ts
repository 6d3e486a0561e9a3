import { z } from "zod";
import { IdSchema, SecretSchema } from "./common.js";
import { SigningAlgorithmSchema } from "./signing.js";

/** OAuth grants a client may use at Archway's token endpoint. */
export const GrantTypeSchema = z.enum([
  "authorization_code",
  "refresh_token",
  "password",
  "client_credentials",
  "urn:ietf:params:oauth:grant-type:device_code",
]);
export type GrantType = z.infer<typeof GrantTypeSchema>;

const ClientIdSchema = z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, "expected 1-128 letters, digits or . _ ~ -");

/**
 * A relying party of Archway's OpenID Provider. Confidential clients carry a scrypt hash of their secret
 * (`archway config hash-password`) or the secret itself by reference (`${file:...}`); public clients have neither
 * and must use PKCE.
 */
export const IdpClientSchema = z
  .object({
    id: ClientIdSchema,
    name: z.string().optional(),
    public: z.boolean().default(false),
    secretHash: z.string().startsWith("scrypt$", "expected a hash from 'archway config hash-password'").optional(),
    secret: SecretSchema.optional(),
    redirectUris: z.array(z.url({ protocol: /^https?$/ })).default([]),
    postLogoutRedirectUris: z.array(z.url({ protocol: /^https?$/ })).default([]),
    grants: z.array(GrantTypeSchema).min(1).default(["authorization_code", "refresh_token"]),
    /**
     * Clouds whose federation audience this client may ask for (`resource` parameter); the first is the default.
     * Access tokens then carry that cloud's groups. Empty: tokens for Archway itself (userinfo).
     */
    clouds: z
      .array(IdSchema)
      .default([])
      .describe(
        "Clouds whose federation audience this client may ask for (`resource` parameter); the first is the default. Access tokens then carry that cloud's groups. Empty: tokens for Archway itself (userinfo).",
      ),
    /**
     * May ask for access tokens for Archway's `/v3` facade (`resource=archway:keystone`, device flow): the
     * `archway login` command's client, whose tokens the openstack CLI uses as `auth_type: v3token`.
     */
    facade: z
      .boolean()
      .default(false)
      .describe(
        "May ask for access tokens for Archway's `/v3` facade (`resource=archway:keystone`, device flow): the `archway login` command's client, whose tokens the openstack CLI uses as `auth_type: v3token`.",
      ),
    /** Scopes the client may receive; requested scopes outside it are dropped. */
    scopes: z
      .array(z.string().min(1))
      .default(["openid", "profile", "email", "groups", "offline_access"])
      .describe("Scopes the client may receive; requested scopes outside it are dropped."),
    /**
     * Refresh tokens without `offline_access`, bound to the sign-in session: they end with it (sign-out, its absolute
     * end). Off by default: refresh tokens come only with `offline_access`.
     */
    sessionRefreshTokens: z
      .boolean()
      .default(false)
      .describe(
        "Refresh tokens without `offline_access`, bound to the sign-in session: they end with it (sign-out, its absolute end). Off by default: refresh tokens come only with `offline_access`.",
      ),
    /** Clients whose tokens this one (a resource server) may introspect, besides its own. */
    introspects: z
      .array(ClientIdSchema)
      .default([])
      .describe("Clients whose tokens this one (a resource server) may introspect, besides its own."),
    /**
     * The `alg` of this client's ID tokens (OpenID Connect Registration's `id_token_signed_response_alg`): one of
     * `signing.algorithm` and `signing.additionalAlgorithms`. Absent: `signing.algorithm` (ES256 by default).
     */
    idTokenSignedResponseAlg: SigningAlgorithmSchema.optional().describe(
      "The `alg` of this client's ID tokens (OpenID Connect Registration's `id_token_signed_response_alg`): one of `signing.algorithm` and `signing.additionalAlgorithms`. Absent: `signing.algorithm` (ES256 by default).",
    ),
    /**
     * PKCE (S256) on the authorization code flow: `required` for every client by default (OAuth 2.1); `optional`
     * lets a confidential client that cannot send a `code_challenge` go without. Public clients always need it.
     */
    pkce: z
      .enum(["required", "optional"])
      .default("required")
      .describe(
        "PKCE (S256) on the authorization code flow: `required` for every client by default (OAuth 2.1); `optional` lets a confidential client that cannot send a `code_challenge` go without. Public clients always need it.",
      ),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.public && (c.secret || c.secretHash))
      ctx.addIssue({ code: "custom", message: "a public client has no secret", path: ["public"] });
    if (!c.public && !c.secret && !c.secretHash)
      ctx.addIssue({
        code: "custom",
        message: "a confidential client needs secretHash or secret",
        path: ["secretHash"],
      });
    if (c.public && (c.grants.includes("client_credentials") || c.grants.includes("password")))
      ctx.addIssue({
        code: "custom",
        message: "a public client cannot use client_credentials or password",
        path: ["grants"],
      });
    if (c.public && c.pkce === "optional")
      ctx.addIssue({ code: "custom", message: "a public client must use PKCE", path: ["pkce"] });
    if (c.grants.includes("authorization_code") && c.redirectUris.length === 0)
      ctx.addIssue({
        code: "custom",
        message: "authorization_code needs at least one redirect URI",
        path: ["redirectUris"],
      });
  });
export type IdpClient = z.infer<typeof IdpClientSchema>;

/**
 * Failed client authentications (wrong secrets) allowed per fixed window, and the bound on scrypt work for hashed
 * secrets. Past `perClientAddress` failures one address is refused for that client; past `perAddress` it is refused
 * for every client; past `perClient` failures from all addresses together, only addresses with no failure for that
 * client in the window may still try (a wall for the whole client would let anyone lock a service out).
 */
export const ClientAuthLimitsSchema = z
  .object({
    windowSeconds: z.number().int().positive().default(900),
    perClientAddress: z.number().int().positive().default(10),
    perAddress: z.number().int().positive().default(50),
    perClient: z.number().int().positive().default(200),
    /** scrypt checks of hashed client secrets running at once (each holds one of libuv's 4 pool threads). */
    hashConcurrency: z
      .number()
      .int()
      .positive()
      .default(2)
      .describe("scrypt checks of hashed client secrets running at once (each holds one of libuv's 4 pool threads)."),
    /** scrypt checks waiting for a slot; beyond it a request is answered 503 at once, not queued. */
    hashQueue: z
      .number()
      .int()
      .min(0)
      .default(16)
      .describe("scrypt checks waiting for a slot; beyond it a request is answered 503 at once, not queued."),
  })
  .strict();
export type ClientAuthLimits = z.infer<typeof ClientAuthLimitsSchema>;

/** The defaults of {@link ClientAuthLimitsSchema}. */
export const CLIENT_AUTH_LIMITS: ClientAuthLimits = ClientAuthLimitsSchema.parse({});

/** Archway as an OpenID Provider (for Keystone federation and any relying party). */
export const IdpConfigSchema = z
  .object({
    clients: z.array(IdpClientSchema).default([]),
    codeTtlSeconds: z.number().int().positive().max(600).default(60),
    idTokenTtlSeconds: z.number().int().positive().default(3600),
    refreshTokenTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(30 * 24 * 3600),
    deviceCodeTtlSeconds: z.number().int().positive().default(600),
    /** Seconds a device must wait between polls (RFC 8628 `interval`). */
    devicePollSeconds: z
      .number()
      .int()
      .positive()
      .default(5)
      .describe("Seconds a device must wait between polls (RFC 8628 `interval`)."),
    clientAuthentication: ClientAuthLimitsSchema.default(CLIENT_AUTH_LIMITS),
  })
  .strict();
export type IdpConfig = z.infer<typeof IdpConfigSchema>;
