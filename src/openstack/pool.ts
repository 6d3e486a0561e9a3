import type { Duplex } from "node:stream";
import { type Agent, Dispatcher, errors } from "undici";
import { createAgent } from "./http.js";

/** How long a cloud's pool stays open with nothing in flight (the agent's own idle keep-alive is 4 s too). */
const IDLE_MS = 4_000;

/**
 * Why an idle pool's sockets are closed: one error for every pool, not undici's `close()`, which makes an error (and
 * formats its stack, as Node does for every socket destroyed with one) per socket, pool and agent: with a connect
 * and a close per socket, a fifth of a converged resync's CPU at a thousand clouds (BENCHMARKS.md, sync-scale).
 */
const IDLE_CLOSE = new errors.ClientClosedError();

/**
 * One cloud's keep-alive connection pool, made on first use and closed once nothing has been in flight for a few
 * seconds. An agent left open keeps its sockets for as long as the server's keep-alive hint says (up to 30 s) and,
 * after they close, a pool and a client per socket it ever opened: about 60 KiB per cloud. A process syncing a
 * thousand clouds kept 60 MiB of them at any moment of a run (and the garbage collector grows the heap in
 * proportion to what stays live). The next request after that makes a new agent, as it would have reconnected.
 */
export class CloudPool extends Dispatcher {
  #agent: Agent | undefined;
  #inFlight = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    private readonly connections: number,
    private readonly idleMs = IDLE_MS,
  ) {
    super();
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandlers): boolean {
    if (this.#closed) {
      handler.onError?.(new errors.ClientClosedError());
      return false;
    }
    this.#agent ??= createAgent(this.connections);
    clearTimeout(this.#idleTimer);
    this.#inFlight++;
    return this.#agent.dispatch(options, new Settled(handler, () => this.#settled()));
  }

  #settled(): void {
    if (--this.#inFlight > 0 || this.#closed) return;
    this.#idleTimer = setTimeout(() => {
      const agent = this.#agent;
      if (this.#inFlight > 0 || !agent) return;
      this.#agent = undefined;
      // Nothing is in flight, so nothing is cut short: destroy() only skips close()'s per-socket errors.
      agent.destroy(IDLE_CLOSE).catch(() => {});
    }, this.idleMs);
    this.#idleTimer.unref();
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#end()?.close() ?? Promise.resolve();
    if (!callback) return done;
    done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === "function" ? null : (a ?? null);
    const callback = typeof a === "function" ? a : b;
    const done = this.#end()?.destroy(err) ?? Promise.resolve();
    if (!callback) return done;
    done.then(callback, callback);
  }

  #end(): Agent | undefined {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const agent = this.#agent;
    this.#agent = undefined;
    return agent;
  }
}

/** Passes everything on to the request's handler and says once when the request is over, however it ended. */
class Settled implements Dispatcher.DispatchHandlers {
  #done = false;

  constructor(
    private readonly handler: Dispatcher.DispatchHandlers,
    private readonly onSettled: () => void,
  ) {}

  #settle(): void {
    if (this.#done) return;
    this.#done = true;
    this.onSettled();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.handler.onConnect?.(abort);
  }
  onResponseStarted(): void {
    this.handler.onResponseStarted?.();
  }
  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    return this.handler.onHeaders?.(statusCode, headers, resume, statusText) ?? true;
  }
  onData(chunk: Buffer): boolean {
    return this.handler.onData?.(chunk) ?? true;
  }
  onBodySent(chunkSize: number, totalBytesSent: number): void {
    this.handler.onBodySent?.(chunkSize, totalBytesSent);
  }
  onComplete(trailers: string[] | null): void {
    this.#settle();
    this.handler.onComplete?.(trailers);
  }
  onError(err: Error): void {
    this.#settle();
    this.handler.onError?.(err);
  }
  onUpgrade(statusCode: number, headers: Buffer[] | string[] | null, socket: Duplex): void {
    this.#settle();
    this.handler.onUpgrade?.(statusCode, headers, socket);
  }
}
