import { type FileHandle, open } from "node:fs/promises";
import type { Readable } from "node:stream";

/** Where a tee reads a source from, chunk by chunk. */
export interface ChunkSource {
  /** The next chunk, or null at the end. */
  next(): Promise<Buffer | null>;
  /** Hands a chunk back once every sink is done with it: a pooled source refills its buffer. */
  recycle(chunk: Buffer): void;
  /** Stops reading (the tee gave up). */
  destroy(): void;
}

/** The chunks of a stream (an http source, a golden image's download): each chunk is fresh, nothing is recycled. */
export function readableChunks(stream: Readable): ChunkSource {
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  return {
    async next() {
      const r = await it.next();
      return r.done ? null : r.value;
    },
    recycle() {},
    destroy() {
      stream.destroy();
    },
  };
}

/**
 * A file read into a few buffers that are refilled once every upload has flushed them, instead of a fresh buffer per
 * read (each a new mapping the kernel must fault in and zero: about a third of the CPU a streamed file cost).
 * Only for sinks that say when they are done with a chunk ({@link Sink.releasesChunks}).
 */
export class PooledFileChunks implements ChunkSource {
  private readonly free: Buffer[] = [];
  private readonly owners = new Map<ArrayBufferLike, Buffer>();
  private waiting: (() => void) | undefined;
  private position = 0;
  private closed = false;

  private constructor(
    private readonly file: FileHandle,
    chunkBytes: number,
    buffers: number,
  ) {
    for (let i = 0; i < buffers; i++) {
      const b = Buffer.allocUnsafeSlow(chunkBytes);
      this.owners.set(b.buffer, b);
      this.free.push(b);
    }
  }

  /**
   * Opens `path`. `buffers` must cover what a tee keeps at once: the chunk held back, the one being written and the
   * one being read (3); 4 leaves room for a sink that is slow to hand one back.
   */
  static async open(
    path: string,
    chunkBytes: number,
    buffers = 4,
  ): Promise<{ chunks: PooledFileChunks; size: number }> {
    const file = await open(path, "r");
    try {
      const { size } = await file.stat();
      return { chunks: new PooledFileChunks(file, chunkBytes, buffers), size };
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async next(): Promise<Buffer | null> {
    if (this.closed) return null;
    while (this.free.length === 0) await new Promise<void>((resolve) => (this.waiting = resolve));
    const buffer = this.free.pop() as Buffer;
    const { bytesRead } = await this.file.read(buffer, 0, buffer.length, this.position);
    if (bytesRead === 0) {
      this.free.push(buffer);
      this.destroy();
      return null;
    }
    this.position += bytesRead;
    return buffer.subarray(0, bytesRead);
  }

  recycle(chunk: Buffer): void {
    const buffer = this.owners.get(chunk.buffer);
    if (!buffer || this.free.includes(buffer)) return;
    this.free.push(buffer);
    const wake = this.waiting;
    this.waiting = undefined;
    wake?.();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    void this.file.close().catch(() => {});
  }
}
