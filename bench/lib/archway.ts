import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BenchServer, spawnServer } from "./process.js";

const root = resolve(import.meta.dirname, "../..");

/** A compiled Archway (`dist/main.js serve`) in its own process with a throwaway config directory. */
export interface BenchArchway extends BenchServer {
  dir: string;
}

/** A loopback port free right now (the kernel picks it; it stays free until someone binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Writes `archway.yaml` (demo mode, since the test Keystones' admin password is the public demo one, on a free
 * loopback port with a matching `publicUrl`, in-memory store, log level warn, plus
 * `yaml`: identity, clouds, secrets...) and each of `policies` into a temp directory, starts the compiled gateway on it and waits
 * until it listens. `stop` ends that process and removes the directory.
 */
export async function startArchway(yaml: string, policies: Record<string, string>): Promise<BenchArchway> {
  const dir = mkdtempSync(join(tmpdir(), "archway-bench-"));
  const port = await freePort();
  writeFileSync(
    join(dir, "archway.yaml"),
    `demo: true\nlisten: { host: 127.0.0.1, port: ${port} }\npublicUrl: http://127.0.0.1:${port}\nlog: { level: warn }\n${yaml}`,
  );
  mkdirSync(join(dir, "policies"));
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, "policies", name), text);
  try {
    const server = await spawnServer(
      "archway",
      process.execPath,
      ["dist/main.js", "serve", "--config", join(dir, "archway.yaml")],
      /Archway listening on (http:\/\/\S+)/,
      { cwd: root },
    );
    return {
      ...server,
      dir,
      async stop() {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A policy giving every member of `group` the project `u-<username>` (member) in every cloud, no SSH keys. */
export function personalProjectPolicy(group: string): string {
  return (
    "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: personal }\nspec:\n" +
    `  subjects: { groups: { anyOf: [${group}] } }\n  grants: [{ project: "u-{{ username }}", roles: [member] }]\n  keys: false\n`
  );
}
