import { z } from "zod";
import { CloudInventoryFileSchema, ConfigSchema } from "./schema/index.js";

/**
 * A JSON Schema (draft 2020-12) for editors, from a zod schema: what a file may contain (`io: "input"`: defaults
 * make fields optional), with the fields' `.describe()` texts as descriptions. What JSON Schema cannot say (a
 * refinement, a transform) is left open rather than refused.
 */
export function jsonSchemaOf(schema: z.ZodType, title: string): Record<string, unknown> {
  const generated = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, title, ...rest };
}

/** The JSON Schema of `archway.yaml` (what `archway config schema` prints; schema/archway.schema.json). */
export function configJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(ConfigSchema, "Archway configuration (archway.yaml)");
}

/** The JSON Schema of a `cloudsDir` inventory file (schema/clouds.schema.json). */
export function inventoryJsonSchema(): Record<string, unknown> {
  return jsonSchemaOf(CloudInventoryFileSchema, "Archway cloud inventory file (clouds.d/*.yaml)");
}
