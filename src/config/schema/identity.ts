import { z } from "zod";
import { IdSchema, MfaModeSchema, SecretSchema } from "./common.js";

/** A demo/dev user of the static source. `passwordHash` is `scrypt$N$r$p$<salt b64>$<hash b64>`. */
export const StaticUserSchema = z
  .object({
    username: z.string().min(1),
    passwordHash: z
      .string()
      .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, "expected scrypt$N$r$p$salt$hash"),
    email: z.string().optional(),
    displayName: z.string().optional(),
    groups: z.array(z.string()).default([]),
    sshKeys: z.array(z.string()).default([]),
    attributes: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
    disabled: z.boolean().default(false),
  })
  .strict();
export type StaticUser = z.infer<typeof StaticUserSchema>;

export const StaticSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("static"),
    users: z.array(StaticUserSchema).default([]),
    mfa: MfaModeSchema,
  })
  .strict();

export const LdapSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("ldap"),
    mfa: MfaModeSchema,
    /** Fills in the attribute names and filters of a common directory; explicit fields win. */
    preset: z
      .enum(["openldap", "active-directory", "freeipa"])
      .default("openldap")
      .describe("Fills in the attribute names and filters of a common directory; explicit fields win."),
    urls: z.array(z.string().regex(/^ldaps?:\/\//, "expected an ldap:// or ldaps:// URL")).min(1),
    startTls: z.boolean().default(false),
    caFile: z.string().optional(),
    /** Only for lab setups: skip certificate verification. */
    insecureSkipVerify: z.boolean().default(false).describe("Only for lab setups: skip certificate verification."),
    bindDn: z.string().optional(),
    bindPassword: SecretSchema.optional(),
    baseDn: z.string().min(1),
    userBaseDn: z.string().optional(),
    groupBaseDn: z.string().optional(),
    userFilter: z.string().optional(),
    usernameAttribute: z.string().optional(),
    idAttribute: z.string().optional(),
    emailAttribute: z.string().optional(),
    displayNameAttribute: z.string().optional(),
    sshKeyAttribute: z.string().optional(),
    extraAttributes: z.array(z.string()).default([]),
    groups: z
      .object({
        mode: z.enum(["memberOf", "search"]).optional(),
        filter: z.string().optional(),
        memberAttribute: z.string().optional(),
        nameAttribute: z.string().optional(),
        nested: z.boolean().default(true),
        inChainMatchingRule: z.boolean().optional(),
        maxDepth: z.number().int().positive().default(10),
      })
      .strict()
      .default({ nested: true, maxDepth: 10 }),
    disabledFilter: z.string().optional(),
    /**
     * RFC 4533 content synchronisation (OpenLDAP syncrepl, refreshAndPersist) to hear of departures and disables
     * within seconds: `auto` when the root DSE lists the Sync Request control, `on` always, `off` never. The
     * periodic listing (offboard.detectSeconds) runs either way.
     */
    syncrepl: z
      .enum(["auto", "on", "off"])
      .default("auto")
      .describe(
        "RFC 4533 content synchronisation (OpenLDAP syncrepl, refreshAndPersist) to hear of departures and disables within seconds: `auto` when the root DSE lists the Sync Request control, `on` always, `off` never. The periodic listing (offboard.detectSeconds) runs either way.",
      ),
    timeoutMs: z.number().int().positive().default(5_000),
    poolSize: z.number().int().positive().default(4),
    pageSize: z.number().int().positive().default(500),
  })
  .strict();

export const OidcSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("oidc"),
    mfa: MfaModeSchema,
    displayName: z.string().optional(),
    issuer: z.url(),
    clientId: z.string().min(1),
    clientSecret: SecretSchema.optional(),
    scopes: z.array(z.string()).default(["openid", "email", "profile"]),
    /** Only for development: allow an http issuer. */
    allowInsecureHttp: z.boolean().default(false).describe("Only for development: allow an http issuer."),
    /**
     * `acr` values of this provider's ID tokens that count as multi-factor (as `amr` values such as `mfa`, `otp`,
     * `hwk` always do): for policies that require a second factor.
     */
    strongAcr: z
      .array(z.string().min(1))
      .default([])
      .describe(
        "`acr` values of this provider's ID tokens that count as multi-factor (as `amr` values such as `mfa`, `otp`, `hwk` always do): for policies that require a second factor.",
      ),
    caFile: z.string().optional(),
    /**
     * What a refused refresh of a kept upstream grant (`invalid_grant`, checked every offboard.detectSeconds) does:
     * end the person's login sessions, offboard them everywhere, or nothing (no checks). See docs/offboarding.md.
     */
    refreshFailure: z
      .enum(["end-sessions", "offboard", "off"])
      .default("end-sessions")
      .describe(
        "What a refused refresh of a kept upstream grant (`invalid_grant`, checked every offboard.detectSeconds) does: end the person's login sessions, offboard them everywhere, or nothing (no checks). See docs/offboarding.md.",
      ),
    claims: z
      .object({
        username: z.string().default("preferred_username"),
        email: z.string().default("email"),
        displayName: z.string().default("name"),
        groups: z.string().default("groups"),
        from: z.enum(["id_token", "userinfo"]).default("id_token"),
      })
      .strict()
      .default({
        username: "preferred_username",
        email: "email",
        displayName: "name",
        groups: "groups",
        from: "id_token",
      }),
  })
  .strict();

/** One place people are authenticated against (and, for LDAP, enumerated from). */
export const IdentitySourceSchema = z.discriminatedUnion("type", [
  StaticSourceSchema,
  LdapSourceSchema,
  OidcSourceSchema,
]);
export type IdentitySourceConfig = z.infer<typeof IdentitySourceSchema>;
export type StaticSourceConfig = z.infer<typeof StaticSourceSchema>;
export type LdapSourceConfig = z.infer<typeof LdapSourceSchema>;
export type OidcSourceConfig = z.infer<typeof OidcSourceSchema>;
