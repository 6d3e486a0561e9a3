/**
 * The static source's configuration (zod only: the config layer imports this file without the source's code).
 */
import { z } from "zod";
import { IdSchema, MfaModeSchema } from "../../config/schema/common.js";

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

/** Users listed in the config file (demo users, a break-glass account). */
export const StaticSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("static"),
    users: z.array(StaticUserSchema).default([]),
    mfa: MfaModeSchema,
  })
  .strict();

/** A static source's configuration. */
export type StaticSourceConfig = z.infer<typeof StaticSourceSchema>;
