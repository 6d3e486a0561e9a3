/**
 * The JSON Schemas Archway publishes for editors and automation, by their path in the repository: the config file,
 * a clouds inventory file, a policy file, and every `--json` report. `archway config schema` prints them; a unit
 * test keeps the committed copies under schema/ equal to what the code generates.
 */
import { configJsonSchema, inventoryJsonSchema, jsonSchemaOf } from "../config/index.js";
import { PolicyManifestSchema } from "../policy/index.js";
import { REPORTS } from "./reports.js";

/** Which schema `archway config schema [NAME]` prints. */
export const SCHEMA_NAMES = ["config", "clouds", "policy", ...Object.keys(REPORTS).map((r) => `report:${r}`)] as const;

/** One schema by its name in {@link SCHEMA_NAMES}, or undefined. */
export function schemaByName(name: string): Record<string, unknown> | undefined {
  if (name === "config") return configJsonSchema();
  if (name === "clouds") return inventoryJsonSchema();
  if (name === "policy")
    return jsonSchemaOf(PolicyManifestSchema, "Archway policy (policies/*.yaml, one per document)");
  const report = name.startsWith("report:") ? REPORTS[name.slice(7) as keyof typeof REPORTS] : undefined;
  return report ? jsonSchemaOf(report, `archway ${name.slice(7)} --json`) : undefined;
}

/** Every committed schema file (path relative to the repository) with its content. */
export function committedSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of SCHEMA_NAMES) {
    const path =
      name === "config"
        ? "schema/archway.schema.json"
        : name.startsWith("report:")
          ? `schema/reports/${name.slice(7)}.schema.json`
          : `schema/${name}.schema.json`;
    files[path] = `${JSON.stringify(schemaByName(name), null, 2)}\n`;
  }
  return files;
}
