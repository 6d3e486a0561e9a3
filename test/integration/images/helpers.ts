import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { TransferTarget } from "../../../src/images/index.js";
import { createCloudClients, createGlanceClient, type GlanceClient } from "../../../src/openstack/index.js";
import { loadEndpoints, repoRoot } from "../../env/endpoints.js";
import { testClouds, uniqueName } from "../openstack/clouds.js";

const run = promisify(execFile);

/** The three clouds' Glance clients (admin), and a close for their pools. */
export function glances(): { targets: (TransferTarget & { glance: GlanceClient })[]; close: () => Promise<void> } {
  const endpoints = loadEndpoints();
  if (endpoints.glances.length === 0) throw new Error("no glances in endpoints.json: run `testenv.sh up`");
  const made = testClouds({ endpoints, timeoutMs: 30_000 }).map((cloud) => {
    const clients = createCloudClients(cloud);
    const { glance, close } = createGlanceClient(clients);
    return {
      cloudId: cloud.id,
      glance,
      close: async () => {
        await close();
        await clients.close();
      },
    };
  });
  return {
    targets: made.map(({ cloudId, glance }) => ({ cloudId, glance })),
    close: async () => void (await Promise.all(made.map((m) => m.close()))),
  };
}

/** A run-unique mark, so tests sharing the Glances never see each other's images. */
export function runMark(): Record<string, string> {
  return { archway_owner: "archway-test", archway_imageset: uniqueName("imgset") };
}

/** A temp dir and a random file of `mib` MiB in it, written in 4 MiB pieces (never held whole), with its sha512. */
export async function randomFile(
  mib: number,
): Promise<{ dir: string; path: string; sha512: string; size: number; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), "archway-images-"));
  const path = join(dir, `image-${mib}m.raw`);
  const hash = createHash("sha512");
  const out = createWriteStream(path);
  for (let i = 0; i < mib / 4; i++) {
    const piece = randomBytes(4 << 20);
    hash.update(piece);
    if (!out.write(piece)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return {
    dir,
    path,
    sha512: hash.digest("hex"),
    size: statSync(path).size,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Serves one file on 127.0.0.1 at a port Glance's web-download accepts (the same bytes at every path). */
export async function fileServer(path: string): Promise<{ url: string; close: () => Promise<void> }> {
  const ports = loadEndpoints().glanceWebDownloadPorts;
  const size = statSync(path).size;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(size) });
    createReadStream(path).pipe(res);
  });
  for (const port of ports) {
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok)
      return { url: `http://127.0.0.1:${port}/image.raw`, close: () => new Promise((r) => server.close(() => r())) };
  }
  throw new Error(`no free web-download port among ${ports.join(", ")}`);
}

/** Stops or starts one test-env service (only the one a test restores itself). */
export async function testenv(action: "stop" | "start", name: string): Promise<void> {
  await run("bash", ["test/env/testenv.sh", action, name], { cwd: repoRoot, timeout: 180_000 });
}

/** Every image carrying the mark in one cloud. */
export async function marked(glance: GlanceClient, mark: Record<string, string>) {
  return glance.list({ properties: mark });
}

/** Deletes every image carrying the mark (test cleanup; the Glance may be down: errors are ignored). */
export async function removeMarked(targets: { glance: GlanceClient }[], mark: Record<string, string>): Promise<void> {
  for (const { glance } of targets) {
    const images = await glance.list({ properties: mark }).catch(() => []);
    for (const image of images) await glance.delete(image.id, { unprotect: true }).catch(() => {});
  }
}
