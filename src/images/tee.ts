import { PassThrough, type Readable } from "node:stream";
import type { Digester, SourceDigests } from "./digests.js";

/** One target of a tee: the stream its upload reads, and whether it is still taking bytes. */
export class TeeSink {
  /** What the upload reads. Bounded: the tee waits for it to drain. */
  readonly stream: PassThrough;
  private dead: Error | undefined;
  /** Bytes written to this sink. */
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

  /** Stops this sink (its upload failed): the tee goes on with the others. */
  kill(err: Error): void {
    this.dead ??= err;
    this.stream.destroy(err);
  }

  get alive(): boolean {
    return this.dead === undefined && !this.stream.destroyed;
  }
}

/** How a tee paces and checks the bytes. */
export interface TeeOptions {
  digester: Digester;
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
 * Reads `source` once and writes every chunk to every live sink, waiting for the slowest to drain (it sets the
 * pace), so memory stays at a few chunks per sink whatever the image size. A sink that dies is dropped; when all
 * are dead the read stops. The last chunk is held back until the whole source is digested: `beforeEnd` decides
 * whether the uploads may complete.
 */
export async function tee(source: Readable, sinks: readonly TeeSink[], opts: TeeOptions): Promise<TeeResult> {
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
    const waits: Promise<void>[] = [];
    for (const s of targets) {
      s.bytes += chunk.length;
      if (!s.stream.write(chunk)) waits.push(drained(s.stream));
    }
    await Promise.all(waits);
    return live().length > 0;
  };
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
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
    for (const s of live()) s.stream.end();
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
