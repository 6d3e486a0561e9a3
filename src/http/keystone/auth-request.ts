import { z } from "zod";

const DomainRef = z.object({ id: z.string().optional(), name: z.string().optional() });

/** The body of `POST /v3/auth/tokens` that Archway accepts (password or token; project scope or none). */
export const AuthRequestSchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).min(1),
      password: z
        .object({
          user: z.object({
            id: z.string().optional(),
            name: z.string().max(255).optional(),
            domain: DomainRef.optional(),
            password: z.string().max(4096),
          }),
        })
        .optional(),
      token: z.object({ id: z.string().max(8192) }).optional(),
      /** Keystone's TOTP method: with a password in the same request, or alone with an auth receipt. */
      totp: z
        .object({
          user: z.object({
            id: z.string().optional(),
            name: z.string().max(255).optional(),
            domain: DomainRef.optional(),
            passcode: z.string().max(64),
          }),
        })
        .optional(),
    }),
    scope: z
      .union([
        z.literal("unscoped"),
        z.object({
          project: z
            .object({ id: z.string().optional(), name: z.string().optional(), domain: DomainRef.optional() })
            .optional(),
          domain: DomainRef.optional(),
          system: z.unknown().optional(),
        }),
      ])
      .optional(),
  }),
});
export type AuthRequest = z.infer<typeof AuthRequestSchema>;
