/**
 * The LDAP / Active Directory / FreeIPA source's configuration (zod only: the config layer imports this file without
 * the source's code).
 */
import { z } from "zod";
import { IdSchema, MfaModeSchema, SecretSchema } from "../../config/schema/common.js";

/** A directory people sign in to with a password and that sync enumerates. */
export const LdapSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("ldap"),
    mfa: MfaModeSchema,
    /** Fills in the attribute names and filters of a common directory; explicit fields win. */
    preset: z.enum(["openldap", "active-directory", "freeipa"]).default("openldap"),
    urls: z.array(z.string().regex(/^ldaps?:\/\//, "expected an ldap:// or ldaps:// URL")).min(1),
    startTls: z.boolean().default(false),
    caFile: z.string().optional(),
    /** Only for lab setups: skip certificate verification. */
    insecureSkipVerify: z.boolean().default(false),
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
    syncrepl: z.enum(["auto", "on", "off"]).default("auto"),
    timeoutMs: z.number().int().positive().default(5_000),
    poolSize: z.number().int().positive().default(4),
    pageSize: z.number().int().positive().default(500),
  })
  .strict();

/** An LDAP source's configuration. */
export type LdapSourceConfig = z.infer<typeof LdapSourceSchema>;
