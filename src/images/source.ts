import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { request } from "undici";
import { ArchwayError } from "../errors.js";
import type { GlanceClient } from "../openstack/glance.js";
import { type ChunkSource, PooledFileChunks, readableChunks } from "./chunks.js";
import type { SourcePin } from "./digests.js";

/**
 * Where an image's bytes come from: a local file (optionally pinned), an http(s) URL, which must be pinned (a
 * URL can change under Archway's feet; the pin is what makes two reads the same image), or an image in a "golden"
 * cloud's Glance ({@link GoldenImageSource}).
 */
export type ImageSource =
  | { kind: "file"; path: string; pin?: SourcePin }
  | { kind: "url"; url: string; pin: SourcePin }
  | GoldenImageSource;

/**
 * An image in one cloud's Glance, read with `GET /v2/images/{id}/file`. Pin it with the image's own
 * `os_hash_value` (sha512): the stream is then checked against what the golden cloud vouched for before the last
 * chunk goes out, so a golden image replaced mid-read is refused rather than copied.
 */
export interface GoldenImageSource {
  kind: "glance";
  cloudId: string;
  imageId: string;
  glance: Pick<GlanceClient, "download">;
  pin?: SourcePin;
}

/** An opened source: its bytes as they come, and its size when known in advance. */
export interface OpenedSource {
  stream: Readable;
  size?: number;
}

/** The source as a person reads it in a report (never credentials: a URL's userinfo is dropped). */
export function describeSource(source: ImageSource): string {
  if (source.kind === "file") return `file ${source.path}`;
  if (source.kind === "glance") return `image ${source.imageId} of cloud ${source.cloudId}`;
  const u = new URL(source.url);
  u.username = "";
  u.password = "";
  return `url ${u.toString()}`;
}

/** Code of a source that cannot be read (missing file, URL not answering or not 200). Retried with backoff. */
export const SOURCE_UNAVAILABLE = "image_source_unavailable";

/** Opens the source for one read, in chunks of about `chunkBytes`. */
export async function openSource(
  source: ImageSource,
  opts: { chunkBytes: number; signal?: AbortSignal },
): Promise<OpenedSource> {
  const what = describeSource(source);
  try {
    if (source.kind === "file") {
      const { size } = await stat(source.path);
      return { stream: createReadStream(source.path, { highWaterMark: opts.chunkBytes, signal: opts.signal }), size };
    }
    if (source.kind === "glance") {
      return await source.glance.download(source.imageId, { signal: opts.signal, highWaterMark: opts.chunkBytes });
    }
    const res = await request(source.url, { method: "GET", signal: opts.signal, highWaterMark: opts.chunkBytes });
    if (res.statusCode !== 200) {
      res.body.destroy();
      throw new ArchwayError(SOURCE_UNAVAILABLE, `${what} answered HTTP ${res.statusCode}`, 502);
    }
    const length = Number(res.headers["content-length"]);
    return { stream: res.body, ...(Number.isFinite(length) ? { size: length } : {}) };
  } catch (err) {
    if (err instanceof ArchwayError) throw err;
    throw new ArchwayError(SOURCE_UNAVAILABLE, `${what} cannot be read: ${(err as Error).message}`, 502, {
      cause: err,
    });
  }
}

/**
 * Opens the source as chunks for a tee: a file into a few recycled buffers when `pooled` (every sink says when it is
 * done with a chunk), anything else as a stream of fresh chunks.
 */
export async function openChunks(
  source: ImageSource,
  opts: { chunkBytes: number; pooled: boolean },
): Promise<{ chunks: ChunkSource; size?: number }> {
  if (source.kind === "file" && opts.pooled) {
    try {
      return await PooledFileChunks.open(source.path, opts.chunkBytes);
    } catch (err) {
      throw new ArchwayError(
        SOURCE_UNAVAILABLE,
        `${describeSource(source)} cannot be read: ${(err as Error).message}`,
        502,
        { cause: err },
      );
    }
  }
  const opened = await openSource(source, opts);
  return { chunks: readableChunks(opened.stream), ...(opened.size !== undefined ? { size: opened.size } : {}) };
}
