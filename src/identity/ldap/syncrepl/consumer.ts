import type { Duplex } from "node:stream";
import { ArchwayError } from "../../../errors.js";
import { BerFramer } from "./ber.js";
import {
  abandonRequest,
  bindRequest,
  decodeMessage,
  decodeSyncDone,
  decodeSyncInfo,
  decodeSyncState,
  type LdapResponse,
  NOTICE_OF_DISCONNECTION_OID,
  RESULT,
  SYNC_OID,
  type SyncInfo,
  searchRequest,
  startTlsRequest,
  syncRequestControl,
  unbindRequest,
} from "./messages.js";
import type { SyncTransport } from "./transport.js";

/** One entry of the synchronised content: its entryUUID, DN and the attributes asked for. */
export interface SyncEntry {
  uuid: string;
  dn: string;
  attributes: Record<string, (string | Buffer)[]>;
}

/** What the consumer tells as the content changes. Called in the order the server sent things, never awaited. */
export interface SyncHandlers {
  /** An entry came into the content or changed; `before` is what the content held (undefined: new). */
  upsert(entry: SyncEntry, before: SyncEntry | undefined): void;
  /** An entry left the content: deleted, moved out of the base or the filter, or not present at a refresh. */
  remove(uuid: string, before: SyncEntry | undefined): void;
  /** A refresh ended: the content mirrors the server's; `first` for the first one this consumer completed. */
  refreshed?(info: { entries: number; first: boolean }): void;
  /** A session failed (connection, bind, search refused); the consumer tries again after a delay. */
  error?(err: Error): void;
}

/** Where and how to synchronise. */
export interface SyncConsumerOptions {
  /** Tried in order, starting with the last one that worked. */
  urls: readonly string[];
  /** StartTLS on `ldap://` URLs. */
  startTls: boolean;
  bindDn?: string;
  bindPassword?: string;
  base: string;
  filter: string;
  attributes: readonly string[];
  /** Bound on connecting, StartTLS and the bind (the persistent search itself has no end). */
  timeoutMs: number;
  transport: SyncTransport;
  /** Delay before reconnecting, doubled per failure up to `maxMs` (default 1 s to 60 s). */
  backoff?: { initialMs: number; maxMs: number };
}

type Outcome = "closed" | "refreshRequired";

/**
 * An RFC 4533 consumer in refreshAndPersist mode: binds, searches with the Sync Request control and keeps a copy
 * of the content (entryUUID -> entry) up to date from the entries, Sync State controls and Sync Info messages the
 * server sends, for as long as it runs. It reconnects with backoff and the last cookie, so the server sends only
 * what changed meanwhile; `e-syncRefreshRequired` (or no cookie yet) means a full refresh, after which entries
 * the server no longer sent are reported removed. Nothing here knows about people: see the LDAP source's watch.
 */
export class SyncConsumer {
  readonly #o: SyncConsumerOptions;
  readonly #h: SyncHandlers;
  readonly #content = new Map<string, SyncEntry>();
  #cookie: Buffer | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #socket: Duplex | undefined;
  #searchId = 0;
  #nextId = 1;
  #preferred = 0;
  #wake: (() => void) | undefined;
  /** During a refresh: the entries the server said are there (present phase, or a refresh without a cookie). */
  #seen = new Set<string>();
  #presentPhase = false;
  #refreshing = false;
  #refreshes = 0;

  constructor(options: SyncConsumerOptions, handlers: SyncHandlers) {
    this.#o = options;
    this.#h = handlers;
  }

  /** Starts synchronising (once). */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops: abandons the search, unbinds and closes; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    const socket = this.#socket;
    if (socket && !socket.destroyed) {
      socket.write(abandonRequest(this.#nextId++, this.#searchId));
      socket.end(unbindRequest(this.#nextId++));
      socket.destroy();
    }
    await this.#loop;
  }

  /** The last cookie the server sent (the state the content reflects). */
  get cookie(): Buffer | undefined {
    return this.#cookie;
  }

  /** The current copy of the content. */
  get content(): ReadonlyMap<string, SyncEntry> {
    return this.#content;
  }

  /** True while the persist stage runs (the content is current and changes arrive as they happen). */
  get persisting(): boolean {
    return this.#socket !== undefined && this.#refreshes > 0 && !this.#refreshing;
  }

  async #run(): Promise<void> {
    const { initialMs, maxMs } = this.#o.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
    let delay = initialMs;
    while (!this.#stopped) {
      const refreshesBefore = this.#refreshes;
      let outcome: Outcome | "failed";
      try {
        outcome = await this.#session();
      } catch (err) {
        if (!this.#stopped) this.#h.error?.(err as Error);
        outcome = "failed";
      } finally {
        this.#socket = undefined;
        this.#refreshing = false;
      }
      if (this.#stopped) break;
      if (outcome === "refreshRequired") {
        // The server cannot resume from our cookie: start over at once with the whole content.
        this.#cookie = undefined;
        continue;
      }
      // A session that reached the persist stage was healthy: the next failure starts the backoff afresh.
      if (this.#refreshes > refreshesBefore) delay = initialMs;
      await this.#sleep(delay / 2 + Math.random() * (delay / 2));
      delay = Math.min(delay * 2, maxMs);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Connects to the first URL that answers (StartTLS when configured), starting with the last that worked. */
  async #open(): Promise<Duplex> {
    const { urls, timeoutMs, transport } = this.#o;
    let lastError: unknown;
    for (let i = 0; i < urls.length; i++) {
      const index = (this.#preferred + i) % urls.length;
      const url = new URL(urls[index] as string);
      try {
        let socket = await transport.connect(url, timeoutMs);
        if (this.#o.startTls && url.protocol === "ldap:") socket = await this.#startTls(socket, url);
        this.#preferred = index;
        return socket;
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError instanceof Error ? lastError : new Error(String(lastError));
  }

  /** Asks for StartTLS on the plain socket (reading exactly one response), then hands it to TLS. */
  #startTls(socket: Duplex, url: URL): Promise<Duplex> {
    const id = this.#nextId++;
    return new Promise<Duplex>((resolve, reject) => {
      const framer = new BerFramer();
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const closed = () => fail(new Error(`${url.origin}: closed during StartTLS`));
      const timer = setTimeout(() => fail(new Error(`${url.origin}: StartTLS not answered`)), this.#o.timeoutMs);
      const onData = (chunk: Buffer) => {
        try {
          const [frame] = framer.push(chunk);
          if (!frame) return;
          const reply = decodeMessage(frame);
          cleanup();
          if (reply.op !== "extendedResponse" || reply.id !== id || reply.result.code !== RESULT.success)
            return fail(new Error(`${url.origin}: StartTLS refused (${describe(reply)})`));
          socket.pause();
          resolve(this.#o.transport.startTls(socket, url, this.#o.timeoutMs));
        } catch (err) {
          fail(err as Error);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("error", fail);
        socket.off("close", closed);
      };
      socket.on("data", onData);
      socket.once("error", fail);
      socket.once("close", closed);
      socket.write(startTlsRequest(id));
    });
  }

  /** One connection: bind, the synchronising search, then every message until it ends. */
  async #session(): Promise<Outcome> {
    const socket = await this.#open();
    if (this.#stopped) {
      socket.destroy();
      return "closed";
    }
    this.#socket = socket;
    const hadCookie = this.#cookie !== undefined;
    return new Promise<Outcome>((resolve, reject) => {
      const framer = new BerFramer();
      let settled = false;
      const finish = (outcome: Outcome | Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const timer = setTimeout(() => finish(new Error("the bind was not answered in time")), this.#o.timeoutMs);
      const search = () => {
        clearTimeout(timer);
        this.#searchId = this.#nextId++;
        this.#beginRefresh(!hadCookie);
        socket.write(
          searchRequest(this.#searchId, {
            base: this.#o.base,
            filter: this.#o.filter,
            attributes: this.#o.attributes,
            controls: [syncRequestControl({ mode: "refreshAndPersist", cookie: this.#cookie })],
          }),
        );
      };
      const bindId = this.#o.bindDn ? this.#nextId++ : 0;
      const onMessage = (m: LdapResponse) => {
        if (m.id === 0) {
          // Unsolicited: the Notice of Disconnection (the server is going away).
          if (m.op === "extendedResponse" && m.name === NOTICE_OF_DISCONNECTION_OID) finish("closed");
          return;
        }
        if (bindId !== 0 && m.id === bindId && m.op === "bindResponse") {
          if (m.result.code !== RESULT.success)
            return finish(
              new ArchwayError(
                "directory_unavailable",
                m.result.code === RESULT.invalidCredentials
                  ? "the service account's bind was refused (check bindDn and bindPassword)"
                  : `the bind failed: ${describe(m)}`,
                503,
              ),
            );
          return search();
        }
        if (m.id !== this.#searchId) return;
        if (m.op === "searchEntry") return this.#entry(m);
        if (m.op === "intermediate" && m.name === SYNC_OID.info && m.value) return this.#info(decodeSyncInfo(m.value));
        if (m.op === "searchDone") {
          const done = m.controls.find((c) => c.type === SYNC_OID.done);
          const cookie = done?.value ? decodeSyncDone(done.value).cookie : undefined;
          if (cookie) this.#cookie = cookie;
          if (m.result.code === RESULT.syncRefreshRequired) return finish("refreshRequired");
          if (m.result.code === RESULT.success) return finish("closed");
          return finish(new ArchwayError("directory_unavailable", `the sync search was refused: ${describe(m)}`, 503));
        }
      };
      socket.on("data", (chunk: Buffer) => {
        try {
          for (const frame of framer.push(chunk)) {
            if (settled) return;
            onMessage(decodeMessage(frame));
          }
        } catch (err) {
          finish(err as Error);
        }
      });
      socket.on("error", (err: Error) => finish(err));
      socket.on("close", () => finish(this.#stopped ? "closed" : new Error("the directory closed the connection")));
      socket.resume();
      if (bindId !== 0) socket.write(bindRequest(bindId, this.#o.bindDn ?? "", this.#o.bindPassword ?? ""));
      else search();
    });
  }

  #beginRefresh(full: boolean): void {
    this.#refreshing = true;
    this.#seen = new Set();
    // Without a cookie the server sends the whole content: whatever it leaves out is gone.
    this.#presentPhase = full;
  }

  #entry(m: Extract<LdapResponse, { op: "searchEntry" }>): void {
    const control = m.controls.find((c) => c.type === SYNC_OID.state);
    if (!control?.value)
      throw new ArchwayError("ldap_protocol_error", `entry ${m.dn} without a Sync State control`, 502);
    const state = decodeSyncState(control.value);
    if (state.cookie) this.#cookie = state.cookie;
    const before = this.#content.get(state.uuid);
    if (state.state === "delete") {
      this.#content.delete(state.uuid);
      this.#seen.delete(state.uuid);
      this.#h.remove(state.uuid, before);
      return;
    }
    if (this.#refreshing) this.#seen.add(state.uuid);
    if (state.state === "present") {
      this.#presentPhase = true;
      return;
    }
    const attributes: SyncEntry["attributes"] = {};
    for (const a of m.attributes) attributes[a.type] = a.values;
    const entry: SyncEntry = { uuid: state.uuid, dn: m.dn, attributes };
    this.#content.set(state.uuid, entry);
    this.#h.upsert(entry, before);
  }

  #info(info: SyncInfo): void {
    if (info.cookie) this.#cookie = info.cookie;
    switch (info.kind) {
      case "newcookie":
        return;
      case "syncIdSet":
        if (info.refreshDeletes) {
          for (const uuid of info.uuids) {
            const before = this.#content.get(uuid);
            this.#content.delete(uuid);
            if (before) this.#h.remove(uuid, before);
          }
        } else {
          this.#presentPhase = true;
          for (const uuid of info.uuids) this.#seen.add(uuid);
        }
        return;
      case "refreshPresent":
        // The present phase ended: what was not said to be present is gone.
        this.#presentPhase = true;
        this.#endPresentPhase();
        if (info.refreshDone) this.#endRefresh();
        return;
      case "refreshDelete":
        if (this.#presentPhase) this.#endPresentPhase();
        if (info.refreshDone) this.#endRefresh();
        return;
    }
  }

  #endPresentPhase(): void {
    if (this.#presentPhase) {
      for (const [uuid, before] of [...this.#content]) {
        if (this.#seen.has(uuid)) continue;
        this.#content.delete(uuid);
        this.#h.remove(uuid, before);
      }
    }
    this.#presentPhase = false;
    this.#seen = new Set();
  }

  #endRefresh(): void {
    if (!this.#refreshing) return;
    this.#refreshing = false;
    this.#refreshes++;
    this.#h.refreshed?.({ entries: this.#content.size, first: this.#refreshes === 1 });
  }
}

function describe(m: LdapResponse): string {
  if ("result" in m) return `result ${m.result.code}${m.result.message ? `: ${m.result.message}` : ""}`;
  return m.op;
}
