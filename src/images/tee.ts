import { PassThrough, Readable } from "node:stream";
import type { UploadWriter } from "../openstack/glance.js";
import { type ChunkSource, readableChunks } from "./chunks.js";
import type { ChunkDigester, SourceDigests } from "./digests.js";

/**
 * One target of a tee. `write` never rejects: a sink that fails kills itself and the tee goes on with the others.
 */
export interface Sink {
  readonly id: string;
  /** Bytes written to this sink. */
  bytes: number;
  readonly alive: boolean;
  /**
   * True when a resolved `write` means the sink holds no reference to the chunk any more, so its buffer may be
   * refilled (a pooled source); false when the chunk may still sit in a stream buffer.
   */
  readonly releasesChunks: boolean;
  /** Takes a chunk; resolves when the sink can take the next one. */
  write(chunk: Buffer): Promise<void>;
  /** Ends the body after the last chunk. */
  end(): void;
  /** Stops this sink (its upload failed). */
  kill(err: Error): void;
}

/** A sink that is a stream an upload reads (any {@link ImageApi}'s `upload`). */
export class TeeSink implements Sink {
  /** What the upload reads. Bounded: the tee waits for it to drain. */
  readonly stream: PassThrough;
  readonly releasesChunks = false;
  private dead: Error | undefined;
  bytes = 0;

  constructor(
    readonly id: string,
    highWaterMark: number,
  ) {
    this.stream = new PassThrough({ highWaterMark });
    this.stream.on("close", () => {
      this.dead ??= new Error("upload stream closed");
    });
    this.stream.on("error", (err) => {
      this.dead ??= err;
    });
  }

  async write(chunk: Buffer): Promise<void> {
    if (!this.alive) return;
    this.bytes += chunk.length;
    if (!this.stream.write(chunk)) await drained(this.stream);
  }

  end(): void {
    this.stream.end();
  }

  kill(err: Error): void {
    this.dead ??= err;
    this.stream.destroy(err);
  }

  get alive(): boolean {
    return this.dead === undefined && !this.stream.destroyed;
  }
}

/** A sink that is an upload written piece by piece (a real Glance's `openUpload`): a write resolves once flushed. */
export class WriterSink implements Sink {
  readonly releasesChunks = true;
  private dead: Error | undefined;
  bytes = 0;

  constructor(
    readonly id: string,
    private readonly writer: UploadWriter,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (!this.alive) return;
    this.bytes += chunk.length;
    try {
      await this.writer.write(chunk);
    } catch (err) {
      this.kill(err instanceof Error ? err : new Error(String(err)));
    }
  }

  end(): void {
    this.writer.end();
  }

  kill(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    this.writer.abort(err);
  }

  get alive(): boolean {
    return this.dead === undefined;
  }
}

/** How a tee paces and checks the bytes. */
export interface TeeOptions {
  digester: ChunkDigester;
  /** Waits as long as the bandwidth caps require before `n` bytes go to the live sinks (ids). */
  pace?: (n: number, ids: readonly string[]) => Promise<void>;
  /**
   * Called with the source's digests once it is read whole, before the last chunk is released: throwing here
   * (a pin mismatch) aborts every sink, so no upload ever completes and no image goes active.
   */
  beforeEnd?: (digests: SourceDigests) => void;
  onProgress?: (bytes: number) => void;
}

/** What a tee did: the digests (undefined when the source failed or every sink died first) or the failure. */
export type TeeResult = { ok: true; digests: SourceDigests } | { ok: false; error: Error };

/**
 * Reads `source` once and writes every chunk to every live sink, waiting for the slowest (it sets the pace), so
 * memory stays at a few chunks per sink whatever the image size; a chunk goes back to a pooled source once every
 * sink is done with it. A sink that dies is dropped; when all are dead the read stops. The last chunk is held back
 * until the whole source is digested: `beforeEnd` decides whether the uploads may complete.
 */
export async function tee(input: Readable | ChunkSource, sinks: readonly Sink[], opts: TeeOptions): Promise<TeeResult> {
  const source = input instanceof Readable ? readableChunks(input) : input;
  let held: Buffer | undefined;
  const live = () => sinks.filter((s) => s.alive);
  const release = async (chunk: Buffer): Promise<boolean> => {
    let targets = live();
    if (targets.length === 0) return false;
    if (opts.pace) {
      await opts.pace(
        chunk.length,
        targets.map((s) => s.id),
      );
      targets = live();
    }
    await Promise.all(targets.map((s) => s.write(chunk)));
    source.recycle(chunk);
    return live().length > 0;
  };
  try {
    for (let chunk = await source.next(); chunk; chunk = await source.next()) {
      opts.digester.update(chunk);
      if (held && !(await release(held))) {
        source.destroy();
        return { ok: false, error: new Error("every upload of the wave failed") };
      }
      held = chunk;
      opts.onProgress?.(opts.digester.bytes);
    }
    const digests = opts.digester.digest();
    opts.beforeEnd?.(digests);
    if (held && !(await release(held))) return { ok: false, error: new Error("every upload of the wave failed") };
    for (const s of live()) s.end();
    return { ok: true, digests };
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    for (const s of sinks) s.kill(error);
    source.destroy();
    return { ok: false, error };
  }
}

/** Resolves when the stream drains, or closes or fails (a dead sink must not hold the tee). */
function drained(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off("drain", done);
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("drain", done);
    stream.on("close", done);
    stream.on("error", done);
  });
}
