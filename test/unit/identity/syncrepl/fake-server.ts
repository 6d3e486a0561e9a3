import { Duplex } from "node:stream";
import {
  BerFramer,
  BerReader,
  bool,
  children,
  decodeElement,
  enumerated,
  int,
  octets,
  seq,
  TAG,
} from "../../../../src/identity/ldap/syncrepl/ber.js";
import { SYNC_OID } from "../../../../src/identity/ldap/syncrepl/messages.js";
import type { SyncTransport } from "../../../../src/identity/ldap/syncrepl/transport.js";

/** A uuid's 16 bytes from its text form. */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ""), "hex");
}

export const UUID = {
  a: "aaaaaaaa-0000-4000-8000-000000000001",
  b: "bbbbbbbb-0000-4000-8000-000000000002",
  c: "cccccccc-0000-4000-8000-000000000003",
};

function ldapResult(code: number, message = ""): Buffer[] {
  return [enumerated(code), octets(""), octets(message)];
}

function withControls(id: number, op: Buffer, controls: Buffer[] = []): Buffer {
  return seq([int(id), op, ...(controls.length ? [seq(controls, 0xa0)] : [])]);
}

/** Server-side encoders for the responses a sync search gets. */
export const reply = {
  bind: (id: number, code = 0) => withControls(id, seq(ldapResult(code), 0x61)),
  extended: (id: number, code = 0) => withControls(id, seq(ldapResult(code), 0x78)),
  done: (id: number, code = 0, message = "") => withControls(id, seq(ldapResult(code, message), 0x65)),
  entry(
    id: number,
    dn: string,
    state: "present" | "add" | "modify" | "delete",
    uuid: string,
    attrs: Record<string, string[]> = {},
    cookie?: string,
  ) {
    const stateValue = seq([
      enumerated(["present", "add", "modify", "delete"].indexOf(state)),
      octets(uuidBytes(uuid)),
      ...(cookie ? [octets(cookie)] : []),
    ]);
    const attributes = seq(
      Object.entries(attrs).map(([type, values]) =>
        seq([
          octets(type),
          seq(
            values.map((v) => octets(v)),
            TAG.set,
          ),
        ]),
      ),
    );
    return withControls(id, seq([octets(dn), attributes], 0x64), [seq([octets(SYNC_OID.state), octets(stateValue)])]);
  },
  info(id: number, value: Buffer) {
    return withControls(id, seq([octets(SYNC_OID.info, 0x80), octets(value, 0x81)], 0x79));
  },
};

/** Sync Info values. */
export const info = {
  newcookie: (cookie: string) => octets(cookie, 0x80),
  refreshPresent: (cookie?: string, done = true) =>
    seq([...(cookie ? [octets(cookie)] : []), ...(done ? [] : [bool(false)])], 0xa2),
  refreshDelete: (cookie?: string, done = true) =>
    seq([...(cookie ? [octets(cookie)] : []), ...(done ? [] : [bool(false)])], 0xa1),
  syncIdSet: (uuids: string[], refreshDeletes: boolean, cookie?: string) =>
    seq(
      [
        ...(cookie ? [octets(cookie)] : []),
        ...(refreshDeletes ? [bool(true)] : []),
        seq(
          uuids.map((u) => octets(uuidBytes(u))),
          TAG.set,
        ),
      ],
      0xa3,
    ),
};

/** A request the client sent, as far as the tests look at it. */
export interface SeenRequest {
  id: number;
  tag: number;
  /** Search requests: the Sync Request control's cookie, if any, and its mode. */
  cookie?: string;
  mode?: number;
  base?: string;
}

function readRequest(frame: Buffer): SeenRequest {
  const r = new BerReader(decodeElement(frame), "request");
  const id = r.int("id");
  const [op, controls] = r.rest();
  if (!op) throw new Error("no op");
  const seen: SeenRequest = { id, tag: op.tag };
  if (op.tag === 0x63) seen.base = new BerReader(op, "search").string("base");
  for (const c of controls ? children(controls) : []) {
    const cr = new BerReader(c, "control");
    if (cr.string("type") !== SYNC_OID.request) continue;
    cr.optional(TAG.boolean);
    const value = new BerReader(decodeElement(cr.next(TAG.octetString, "value").value), "syncRequest");
    seen.mode = value.int("mode", TAG.enumerated);
    const cookie = value.optional(TAG.octetString);
    if (cookie) seen.cookie = cookie.value.toString();
  }
  return seen;
}

/** One connection's socket: the test reads what the client sent and pushes what the server says. */
export class FakeSocket extends Duplex {
  readonly requests: SeenRequest[] = [];
  readonly #framer = new BerFramer();
  #waiters: (() => void)[] = [];

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    for (const frame of this.#framer.push(chunk)) this.requests.push(readRequest(frame));
    for (const w of this.#waiters.splice(0)) w();
    done();
  }

  override _read(): void {}

  /** Sends server bytes to the client. */
  send(...frames: Buffer[]): void {
    for (const f of frames) this.push(f);
  }

  /** Resolves once the client sent a request with `tag` (0x60 bind, 0x63 search, 0x77 extended, 0x42 unbind). */
  async next(tag: number): Promise<SeenRequest> {
    for (;;) {
      const found = this.requests.find((r) => r.tag === tag);
      if (found) {
        this.requests.splice(this.requests.indexOf(found), 1);
        return found;
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }
}

/** A transport whose every connection is a new {@link FakeSocket}, handed to the test in order. */
export function fakeTransport() {
  const sockets: FakeSocket[] = [];
  const waiters: ((s: FakeSocket) => void)[] = [];
  let refuse = 0;
  const transport: SyncTransport = {
    async connect() {
      if (refuse > 0) {
        refuse--;
        throw new Error("ECONNREFUSED");
      }
      const socket = new FakeSocket();
      sockets.push(socket);
      waiters.shift()?.(socket);
      return socket;
    },
    async startTls(socket) {
      return socket;
    },
  };
  return {
    transport,
    sockets,
    /** The next connection (the one already made when the test did not take it yet). */
    async connection(index: number): Promise<FakeSocket> {
      const s = sockets[index];
      if (s) return s;
      return new Promise((resolve) => waiters.push(resolve));
    },
    refuseNext(n: number) {
      refuse = n;
    },
  };
}
