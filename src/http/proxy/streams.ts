import { Readable } from "node:stream";
import { type ArchwayError, isArchwayError } from "../../errors.js";

/**
 * The client's body as the stream sent to the cloud, with what reading it found: `overLimit` resolves to the
 * body-limit error when reading went past the limit, or, asked to `drain`, after reading the rest the cloud did
 * not take (bounded by the limit itself and the server's request timeout).
 */
export function clientBody(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  let failed: unknown;
  const read = async () => {
    try {
      return await reader.read();
    } catch (err) {
      failed = err;
      throw err;
    }
  };
  async function* chunks(): AsyncIterable<Uint8Array> {
    for (;;) {
      const { done, value } = await read();
      if (done) return;
      yield value;
    }
  }
  return {
    stream: Readable.from(chunks(), { objectMode: false }),
    async overLimit(drain: boolean): Promise<ArchwayError | undefined> {
      if (drain && failed === undefined) {
        try {
          while (!(await read()).done) {}
        } catch {
          // recorded in `failed`
        }
      }
      return isArchwayError(failed) ? failed : undefined;
    },
  };
}

/** Reads up to `limit` bytes; `rest` is the unread remainder when the body is longer. */
export async function readUpTo(
  body: AsyncIterable<Uint8Array>,
  limit: number,
): Promise<{ head: Buffer[]; rest?: AsyncIterator<Uint8Array> }> {
  const iterator = body[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { value, done } = await iterator.next();
    if (done) return { head };
    head.push(Buffer.from(value));
    size += value.length;
    if (size > limit) return { head, rest: iterator };
  }
}

/** `head`, then what is left of `rest`. */
export async function* prepend(head: Buffer[], rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield* head;
  for (;;) {
    const { value, done } = await rest.next();
    if (done) return;
    yield value;
  }
}

/**
 * A web stream over `body` for the client's answer; `onEnd` runs once when it ends, fails or is cancelled (the
 * exchange with the cloud is over, and its connection slot may go to the next request).
 */
export function streamOf(body: AsyncIterable<Uint8Array>, onEnd: () => void = () => {}): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (err) {
        onEnd();
        throw err;
      }
      if (step.done) {
        onEnd();
        controller.close();
      } else controller.enqueue(step.value);
    },
    async cancel() {
      onEnd();
      await iterator.return?.();
    },
  });
}
