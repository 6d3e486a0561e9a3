import { z } from "zod";

/** A policy's or manifest's name: what plans, audit events and marks in the clouds carry. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, "expected a lower-case name (letters, digits, '.', '-')");

/** `metadata:` of every document in the policies folder. */
export const MetadataSchema = z
  .object({ name: NameSchema, description: z.string().optional(), labels: z.record(z.string(), z.string()).optional() })
  .strict();

/** Which clouds. Names and exclusions are globs (`*`, `?`); every label given must match (value globs too). */
export const CloudSelectorSchema = z
  .object({
    names: z.array(z.string().min(1)).min(1).optional(),
    labels: z.record(z.string(), z.union([z.string(), z.array(z.string()).min(1)])).optional(),
    exclude: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type CloudSelector = z.infer<typeof CloudSelectorSchema>;
