import { readFileSync } from "node:fs";
import { z } from "zod";

const PackageJson = z.object({ name: z.string(), version: z.string() });

/**
 * Archway's version, from the `package.json` next to the built code (`dist/../package.json`, also where the
 * container image puts it), so `archway --version` and the package can never disagree.
 */
export function archwayVersion(): string {
  const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return PackageJson.parse(JSON.parse(text)).version;
}
