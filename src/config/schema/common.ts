import { z } from "zod";

/** Identifier used for clouds, sources and policies: lower-case, DNS-label-like, stable. */
export const IdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected lower-case letters, digits and '-', starting with a letter or digit");

/** A duration in seconds (positive integer). */
export const SecondsSchema = z.number().int().positive();

/** A secret value after `${env:...}` / `${file:...}` resolution; never logged. */
export const SecretSchema = z.string().min(1, "expected a non-empty secret");

/**
 * Who something is about, by source, username and group (names or DNs): the core of a policy's `subjects` and of
 * `web.admins`. Every condition given must hold.
 */
export const SubjectCoreSchema = z
  .object({
    sources: z.array(z.string().min(1)).min(1).optional(),
    usernames: z.array(z.string().min(1)).min(1).optional(),
    groups: z
      .object({
        anyOf: z.array(z.string().min(1)).min(1).optional(),
        allOf: z.array(z.string().min(1)).min(1).optional(),
        noneOf: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Whether a source's people must pass a second factor (docs/mfa.md): `required` (enrolment forced at the next web
 * sign-in), `optional` (asked of those who enrolled one), `off` (never asked; the default when absent, so nothing changes). Optional rather than defaulted, so that source
 * configurations built in code without it keep their type.
 */
export const MfaModeSchema = z.enum(["required", "optional", "off"]).optional();
