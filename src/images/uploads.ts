import type { Pending } from "./context.js";
import { type Sink, TeeSink, WriterSink } from "./tee.js";

/** The uploads of a wave: a sink per image, and per sink its outcome (undefined when Glance took it, else why not). */
export interface WaveUploads {
  sinks: Sink[];
  outcomes: Promise<unknown>[];
}

/** True when every target's Glance takes uploads written piece by piece: the source may then be read pooled. */
export function allWriters(wave: readonly Pending[]): boolean {
  return wave.every((p) => typeof p.target.glance.openUpload === "function");
}

/**
 * Starts one upload per created image: written piece by piece where the Glance client can (`openUpload`: each write
 * says when it is flushed), else as a stream its `upload` reads. An upload that cannot start is a dead sink with
 * its error as outcome; one that fails later kills its sink, and the tee goes on with the others.
 */
export async function openUploads(
  created: readonly Pending[],
  size: number | undefined,
  sinkBufferBytes: number,
): Promise<WaveUploads> {
  const opts = size !== undefined ? { size } : {};
  const opened = await Promise.all(
    created.map(async (p): Promise<{ sink: Sink; outcome: Promise<unknown> }> => {
      const id = p.image?.id ?? "";
      const { glance, cloudId } = p.target;
      if (typeof glance.openUpload === "function") {
        try {
          const writer = await glance.openUpload(id, opts);
          const sink = new WriterSink(cloudId, writer);
          return { sink, outcome: writer.done.then(() => undefined, failedWith(sink)) };
        } catch (err) {
          const sink = new TeeSink(cloudId, 1);
          return { sink, outcome: Promise.resolve(failedWith(sink)(err)) };
        }
      }
      const sink = new TeeSink(cloudId, sinkBufferBytes);
      return { sink, outcome: glance.upload(id, sink.stream, opts).then(() => undefined, failedWith(sink)) };
    }),
  );
  return { sinks: opened.map((o) => o.sink), outcomes: opened.map((o) => o.outcome) };
}

/** Kills the sink of a failed upload and returns the failure as its outcome. */
function failedWith(sink: Sink) {
  return (err: unknown): unknown => {
    sink.kill(err instanceof Error ? err : new Error(String(err)));
    return err ?? new Error("upload failed");
  };
}
