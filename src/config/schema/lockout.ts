import { isIP } from "node:net";
import { z } from "zod";

const seconds = (fallback: number) => z.number().int().positive().default(fallback);

/** A soft limit: past `freeFailures` failures within the window, each attempt waits a delay that doubles. */
const DelaySchema = (defaults: { freeFailures: number; windowSeconds: number; maxDelaySeconds: number }) =>
  z
    .object({
      freeFailures: z.number().int().min(0).default(defaults.freeFailures),
      windowSeconds: seconds(defaults.windowSeconds),
      /** The wait after the first failure past `freeFailures`; it doubles with each further failure. */
      baseDelaySeconds: z
        .number()
        .positive()
        .default(1)
        .describe("The wait after the first failure past `freeFailures`; it doubles with each further failure."),
      /** The longest wait: never a long wall, only a slower pace. */
      maxDelaySeconds: seconds(defaults.maxDelaySeconds).describe(
        "The longest wait: never a long wall, only a slower pace.",
      ),
    })
    .strict()
    .default({ ...defaults, baseDelaySeconds: 1 });

/**
 * Limits on failed sign-ins (OWASP's and Keycloak's model): a hard limit per (username, client address) that
 * refuses only that pair, and growing delays, never a wall, per username (attacks from many addresses) and per
 * client address (one address spraying many usernames; high, since a NAT or a CI runner is many people).
 * Every attempt kind (password today, second-factor codes later) is counted separately with the same limits.
 */
export const LockoutConfigSchema = z
  .object({
    perUserAndAddress: z
      .object({
        maxFailures: z.number().int().positive().default(5),
        windowSeconds: seconds(900),
        /**
         * How long an attempt waits, when the pair's count is full, for attempts still in flight to settle before it
         * is refused: a success gives its unit back, so concurrent right passwords (parallel CLI commands of one
         * account) get through instead of being refused as if they had failed. 0 refuses at once.
         */
        inFlightWaitMs: z
          .number()
          .int()
          .min(0)
          .max(10_000)
          .default(400)
          .describe(
            "How long an attempt waits, when the pair's count is full, for attempts still in flight to settle before it is refused: a success gives its unit back, so concurrent right passwords (parallel CLI commands of one account) get through instead of being refused as if they had failed. 0 refuses at once.",
          ),
      })
      .strict()
      .default({ maxFailures: 5, windowSeconds: 900, inFlightWaitMs: 400 }),
    perUser: DelaySchema({ freeFailures: 20, windowSeconds: 3600, maxDelaySeconds: 60 }),
    perAddress: DelaySchema({ freeFailures: 100, windowSeconds: 900, maxDelaySeconds: 30 }),
    /** IPv6 clients are counted by this prefix: one attacker usually holds a whole /64. */
    ipv6PrefixLength: z
      .number()
      .int()
      .min(32)
      .max(128)
      .default(64)
      .describe("IPv6 clients are counted by this prefix: one attacker usually holds a whole /64."),
  })
  .strict();
export type LockoutConfig = z.infer<typeof LockoutConfigSchema>;

/** The limits when the config names none. */
export const DEFAULT_LOCKOUT: LockoutConfig = LockoutConfigSchema.parse({});

/** `http.trustedProxies`: plain addresses and CIDR ranges, IPv4 and IPv6. */
export const TrustedProxySchema = z.string().refine(
  (entry) => {
    const [address = "", prefix, extra] = entry.split("/");
    const version = isIP(address);
    if (version === 0 || extra !== undefined) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
  },
  { error: "expected an IPv4 or IPv6 address, or a CIDR range such as 10.0.0.0/8 or fd00::/8" },
);
export type LockoutConfigInput = z.input<typeof LockoutConfigSchema>;
