import {
  type Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * An image upload being written chunk by chunk. Each write resolves once its bytes are handed to the kernel, so the
 * caller may refill that buffer at once (a pool of read buffers instead of a fresh one per read) and sees how fast
 * Glance takes the bytes; the upload's outcome is `done`.
 */
export interface UploadWriter {
  /** Sends a chunk; resolves when it is flushed to the socket, rejects when the upload failed. */
  write(chunk: Uint8Array): Promise<void>;
  /** Ends the body (after the last write). */
  end(): void;
  /** Cuts the upload: Glance puts the image back to `queued`. */
  abort(err: Error): void;
  /** Resolves on Glance's 2xx answer; rejects with the error `fail` or `cut` made (always handled: never unhandled). */
  readonly done: Promise<void>;
}

/** Where an upload goes and how its failures read. */
export interface UploadTarget {
  url: string;
  headers: OutgoingHttpHeaders;
  agents: { http: HttpAgent; https: HttpsAgent };
  /** The error for a non-2xx answer. */
  fail: (status: number, body: string) => Error;
  /** The error for a connection cut or reset before the answer. */
  cut: (cause: unknown) => Error;
}

/**
 * Starts a `PUT` of a body written piece by piece over node:http (whose write callbacks say when a piece is flushed:
 * what undici's stream bodies do not tell). No timeout here: an upload may wait on a slow peer for long, and the
 * transfer scheduler owns the deadline.
 */
export function startUpload(target: UploadTarget): UploadWriter {
  const url = new URL(target.url);
  const https = url.protocol === "https:";
  const req = (https ? httpsRequest : httpRequest)(url, {
    method: "PUT",
    headers: target.headers,
    agent: https ? target.agents.https : target.agents.http,
  });
  let failure: Error | undefined;
  /** The first failure wins: a cut after an error answer keeps the answer's message. */
  const fail = (err: Error): Error => {
    failure ??= err;
    return failure;
  };
  const done = new Promise<void>((resolve, reject) => {
    req.on("response", (res: IncomingMessage) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("error", (err) => reject(fail(target.cut(err))));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve();
        reject(fail(target.fail(status, Buffer.concat(parts).toString("utf8").slice(0, 4096))));
      });
    });
    req.on("error", (err) => reject(fail(target.cut(err))));
  });
  done.catch(() => {});
  // A write whose callback never comes (the request died before it had a socket) must still settle.
  const ended = done.then(
    () => Promise.reject(new Error("upload already answered")),
    (err: unknown) => Promise.reject(err),
  );
  ended.catch(() => {});
  return {
    write(chunk) {
      if (failure) return Promise.reject(failure);
      const flushed = new Promise<void>((resolve, reject) => {
        req.write(chunk, (err) => (err ? reject(failure ?? target.cut(err)) : resolve()));
      });
      flushed.catch(() => {});
      return Promise.race([flushed, ended]);
    },
    end() {
      req.end();
    },
    abort(err) {
      fail(target.cut(err));
      req.destroy(err);
    },
    done,
  };
}
