import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { z } from "zod";
import { Digester } from "../../../images/index.js";
import { getJson, type Store, setJson } from "../../../store/index.js";

const CachedSchema = z.object({
  path: z.string(),
  size: z.number(),
  mtimeMs: z.number(),
  sha512: z.string(),
  md5: z.string(),
});
/** A file's digests, for the (path, size, mtime) they were computed at. */
export type FileDigest = z.infer<typeof CachedSchema>;

/**
 * The sha512 (and md5) of image files, computed once per (path, size, mtime) and kept in the store, so a sync run
 * reads a file whole only when it changed (a 10 GiB image costs a minute to hash; every plan needs its version).
 * Concurrent asks for one file share one read.
 */
export class FileDigests {
  private readonly inFlight = new Map<string, Promise<FileDigest>>();

  constructor(private readonly store: Store) {}

  async of(path: string): Promise<FileDigest> {
    const { size, mtimeMs } = await stat(path);
    const key = `images:file-digest:${createHash("sha256").update(path).digest("hex")}`;
    const cached = await getJson(this.store, key, CachedSchema).catch(() => null);
    if (cached && cached.path === path && cached.size === size && cached.mtimeMs === mtimeMs) return cached;
    const flightKey = JSON.stringify([path, size, mtimeMs]);
    let p = this.inFlight.get(flightKey);
    if (!p) {
      p = (async () => {
        const digester = new Digester();
        for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>)
          digester.update(chunk);
        const d = digester.digest();
        const out: FileDigest = { path, size: d.size, mtimeMs, sha512: d.sha512, md5: d.md5 };
        // A file that changed while it was read is hashed again next time (its mtime will differ).
        await setJson(this.store, key, out, { ttlMs: 30 * 24 * 3600_000 }).catch(() => {});
        return out;
      })().finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, p);
    }
    return p;
  }
}
