import { z } from "zod";
import { SubjectCoreSchema } from "./common.js";

/**
 * Who may use `/admin` and `/api/v1/admin/...`: the same subject matchers as a policy's `subjects` (source,
 * usernames, groups by name or DN). Every condition given must hold; unlike a policy, an empty block matches
 * nobody, so a fresh install has no administrators until someone is named.
 */
export const WebAdminsSchema = SubjectCoreSchema;
export type WebAdmins = z.infer<typeof WebAdminsSchema>;

/** The web pages: session lifetime and the operators who see `/admin`. */
export const WebConfigSchema = z
  .object({
    /** How long a browser session lasts after sign-in. */
    sessionTtlSeconds: z
      .number()
      .int()
      .positive()
      .default(8 * 3600)
      .describe("How long a browser session lasts after sign-in."),
    admins: WebAdminsSchema.default({}),
    /**
     * Read-only operators: they see every admin page and `GET /api/v1/admin/...`, and every action (a POST, a
     * DELETE) is refused to them with 403. Same matchers as `admins`; an empty block names nobody.
     */
    auditors: WebAdminsSchema.default({}),
    /**
     * Longest lifetime of an application credential made on request, in days (its Keystone `expires_at`). A
     * request for longer is refused; one that names no lifetime gets this one.
     */
    appCredentialMaxDays: z
      .number()
      .int()
      .positive()
      .max(3650)
      .default(90)
      .describe(
        "Longest lifetime of an application credential made on request, in days (its Keystone `expires_at`). A request for longer is refused; one that names no lifetime gets this one.",
      ),
  })
  .strict();
export type WebConfig = z.infer<typeof WebConfigSchema>;
