import { z } from "zod";

/**
 * Offboarding: how often identity sources are asked who left or was disabled (a listing of stable ids diffed
 * against the previous one), and the guard against a listing that lost most of the directory by mistake.
 */
export const OffboardConfigSchema = z
  .object({
    /** Seconds between two looks for departures and disables (0: never; the kill switch still works). */
    detectSeconds: z
      .number()
      .int()
      .min(0)
      .default(60)
      .describe("Seconds between two looks for departures and disables (0: never; the kill switch still works)."),
    /**
     * More departures than this in one look are held, not acted on (a wrong base DN or an emptied OU looks like
     * everyone leaving): logged and audited as `offboard.held`; `archway offboard` still acts on anyone.
     */
    maxDeparturesPerRun: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe(
        "More departures than this in one look are held, not acted on (a wrong base DN or an emptied OU looks like everyone leaving): logged and audited as `offboard.held`; `archway offboard` still acts on anyone.",
      ),
    /** First retry delay for a cloud that was down during offboarding; doubles per attempt up to 15 minutes. */
    retrySeconds: z
      .number()
      .int()
      .positive()
      .default(30)
      .describe(
        "First retry delay for a cloud that was down during offboarding; doubles per attempt up to 15 minutes.",
      ),
  })
  .strict();
export type OffboardConfig = z.infer<typeof OffboardConfigSchema>;
