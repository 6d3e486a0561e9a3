/**
 * The upstream OpenID Provider source's configuration (zod only: the config layer imports this file without the
 * source's code).
 */
import { z } from "zod";
import { IdSchema, MfaModeSchema, SecretSchema } from "../../config/schema/common.js";

/** An upstream OpenID Provider (the company's SSO) people are redirected to. */
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
    allowInsecureHttp: z.boolean().default(false),
    /**
     * `acr` values of this provider's ID tokens that count as multi-factor (as `amr` values such as `mfa`, `otp`,
     * `hwk` always do): for policies that require a second factor.
     */
    strongAcr: z.array(z.string().min(1)).default([]),
    caFile: z.string().optional(),
    /**
     * What a refused refresh of a kept upstream grant (`invalid_grant`, checked every offboard.detectSeconds) does:
     * end the person's login sessions, offboard them everywhere, or nothing (no checks). See docs/offboarding.md.
     */
    refreshFailure: z.enum(["end-sessions", "offboard", "off"]).default("end-sessions"),
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

/** An OIDC source's configuration. */
export type OidcSourceConfig = z.infer<typeof OidcSourceSchema>;
