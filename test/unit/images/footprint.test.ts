import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../../..");

/** Every source file reachable from `entries` through relative imports (static and `export ... from`). */
function reachable(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = entries.map((e) => resolve(root, e));
  while (todo.length > 0) {
    const file = todo.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/^(?:import|export)\s(?!type\s)[^;]*?from\s+"(\.[^"]+)"/gms)) {
      todo.push(resolve(dirname(file), (m[1] as string).replace(/\.js$/, ".ts")));
    }
  }
  return new Set([...seen].map((f) => f.slice(root.length + 1)));
}

// What the process that streams images loads (bench/lib/image-child.mjs loads the same modules from dist/): its
// baseline memory is part of the peak RSS #28 bounds, so the gateway's heavy parts must stay out of it.
describe("the modules an image transfer loads", () => {
  const files = reachable(["src/images/stream.ts", "src/images/context.ts", "src/openstack/index.ts"]);

  it("include the streaming code and the Glance client", () => {
    expect(files).toContain("src/images/tee.ts");
    expect(files).toContain("src/openstack/glance.ts");
  });

  it("leave out the OTLP tracing SDK, the HTTP app, the policy engine and the status store", () => {
    const heavy = [...files].filter((f) =>
      /^src\/(telemetry\/(index|tracing)\.ts|http\/|policy\/|store\/|images\/status\.ts)/.test(f),
    );
    expect(heavy).toEqual([]);
  });
});
