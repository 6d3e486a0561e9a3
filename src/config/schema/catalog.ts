import { z } from "zod";

/** How each cloud's catalog is kept: read in the background, served from the last good copy (docs/operations.md). */
export const CatalogConfigSchema = z
  .object({
    /** A cloud's catalog is read again after this long. */
    refreshSeconds: z
      .number()
      .int()
      .positive()
      .default(300)
      .describe("A cloud's catalog is read again after this long."),
    /** A read that failed is tried again after this long (cheap while the cloud's breaker is open). */
    retrySeconds: z
      .number()
      .int()
      .positive()
      .default(15)
      .describe("A read that failed is tried again after this long (cheap while the cloud's breaker is open)."),
    /**
     * In a process's first moments, how long a login may wait for the first read of a cloud no process has read
     * yet (0: never wait; such a cloud is then listed without services until it is read).
     */
    coldWaitMs: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(2_000)
      .describe(
        "In a process's first moments, how long a login may wait for the first read of a cloud no process has read yet (0: never wait; such a cloud is then listed without services until it is read).",
      ),
  })
  .strict();
export type CatalogConfig = z.infer<typeof CatalogConfigSchema>;

/** The per-cloud circuit breaker shared by catalog reads, the token broker, the proxy and sync. */
export const BreakerConfigSchema = z
  .object({
    /** Failures in a row (timeouts, connection errors, 5xx; never 4xx) that open a cloud's circuit. */
    failureThreshold: z
      .number()
      .int()
      .positive()
      .default(3)
      .describe("Failures in a row (timeouts, connection errors, 5xx; never 4xx) that open a cloud's circuit."),
    /** How long an open circuit refuses calls before one probe; doubled after each failed probe. */
    openSeconds: z
      .number()
      .positive()
      .default(5)
      .describe("How long an open circuit refuses calls before one probe; doubled after each failed probe."),
    /** The longest wait between probes. */
    maxOpenSeconds: z.number().positive().default(300).describe("The longest wait between probes."),
  })
  .strict();
export type BreakerConfig = z.infer<typeof BreakerConfigSchema>;
