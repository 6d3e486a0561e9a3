import { BerWriter, FilterParser } from "ldapts";
import {
  type BerElement,
  BerError,
  BerReader,
  bool,
  children,
  decodeElement,
  enumerated,
  int,
  octets,
  readBool,
  seq,
  TAG,
} from "./ber.js";

/**
 * The LDAP messages (RFC 4511) a content-synchronisation consumer needs, and the RFC 4533 controls and
 * intermediate messages it carries. Encoders build whole LDAPMessages; {@link decodeMessage} reads any response
 * and keeps what this consumer uses. Filters are encoded by ldapts's own parser (the one the rest of Archway's
 * searches use), so a configured filter means the same thing here.
 */

/** RFC 4533 object identifiers. */
export const SYNC_OID = {
  request: "1.3.6.1.4.1.4203.1.9.1.1",
  state: "1.3.6.1.4.1.4203.1.9.1.2",
  done: "1.3.6.1.4.1.4203.1.9.1.3",
  info: "1.3.6.1.4.1.4203.1.9.1.4",
} as const;

/** RFC 4511's StartTLS extended operation, and RFC 4511's unsolicited Notice of Disconnection. */
export const START_TLS_OID = "1.3.6.1.4.1.1466.20037";
export const NOTICE_OF_DISCONNECTION_OID = "1.3.6.1.4.1.1466.20036";

/** LDAP result codes this consumer acts on. */
export const RESULT = { success: 0, invalidCredentials: 49, syncRefreshRequired: 4096 } as const;

const APP = {
  bindRequest: 0x60,
  bindResponse: 0x61,
  unbindRequest: 0x42,
  searchRequest: 0x63,
  searchEntry: 0x64,
  searchDone: 0x65,
  abandonRequest: 0x50,
  searchReference: 0x73,
  extendedRequest: 0x77,
  extendedResponse: 0x78,
  intermediate: 0x79,
} as const;
const CONTROLS = 0xa0;

/** One control of a request or a response. */
export interface LdapControl {
  type: string;
  critical: boolean;
  value?: Buffer;
}

/** The result part of a response. */
export interface LdapResult {
  code: number;
  matchedDn: string;
  message: string;
}

/** One attribute of an entry: values as text, or as bytes when they are not UTF-8 (as ldapts returns them). */
export interface LdapAttribute {
  type: string;
  values: (string | Buffer)[];
}

/** A response, as far as this consumer reads it. */
export type LdapResponse = { id: number; controls: LdapControl[] } & (
  | { op: "bindResponse"; result: LdapResult }
  | { op: "searchEntry"; dn: string; attributes: LdapAttribute[] }
  | { op: "searchReference" }
  | { op: "searchDone"; result: LdapResult }
  | { op: "extendedResponse"; result: LdapResult; name?: string; value?: Buffer }
  | { op: "intermediate"; name?: string; value?: Buffer }
  | { op: "other"; tag: number }
);

function message(id: number, op: Buffer, controls: readonly Buffer[] = []): Buffer {
  return seq([int(id), op, ...(controls.length > 0 ? [seq(controls, CONTROLS)] : [])]);
}

/** A simple bind (an empty DN and password is an anonymous bind). */
export function bindRequest(id: number, dn: string, password: string): Buffer {
  return message(id, seq([int(3), octets(dn), octets(password, 0x80)], APP.bindRequest));
}

/** The StartTLS extended request. */
export function startTlsRequest(id: number): Buffer {
  return message(id, seq([octets(START_TLS_OID, 0x80)], APP.extendedRequest));
}

/** Abandons a running operation (the persistent search) before an unbind. */
export function abandonRequest(id: number, target: number): Buffer {
  return message(id, int(target, APP.abandonRequest));
}

/** Ends the session politely. */
export function unbindRequest(id: number): Buffer {
  return message(id, Buffer.from([APP.unbindRequest, 0x00]));
}

/** A control: type, criticality, value. */
export function control(c: LdapControl): Buffer {
  return seq([octets(c.type), ...(c.critical ? [bool(true)] : []), ...(c.value ? [octets(c.value)] : [])]);
}

/** The Sync Request control (RFC 4533 section 2.2), critical: a server without it must refuse the search. */
export function syncRequestControl(opts: { mode: "refreshOnly" | "refreshAndPersist"; cookie?: Buffer }): LdapControl {
  const value = seq([enumerated(opts.mode === "refreshOnly" ? 1 : 3), ...(opts.cookie ? [octets(opts.cookie)] : [])]);
  return { type: SYNC_OID.request, critical: true, value };
}

/** The BER of an RFC 4515 filter string; throws {@link BerError} for a filter ldapts cannot parse. */
export function encodeFilter(filter: string): Buffer {
  let parsed: ReturnType<typeof FilterParser.parseString>;
  try {
    parsed = FilterParser.parseString(filter);
  } catch (err) {
    throw new BerError(`filter ${filter}: ${(err as Error).message}`);
  }
  const writer = new BerWriter();
  parsed.write(writer);
  return writer.buffer;
}

/** A subtree search that never times out on the server's side, with the given controls. */
export function searchRequest(
  id: number,
  opts: { base: string; filter: string; attributes: readonly string[]; controls?: readonly LdapControl[] },
): Buffer {
  const op = seq(
    [
      octets(opts.base),
      enumerated(2), // wholeSubtree
      enumerated(0), // neverDerefAliases
      int(0), // no size limit
      int(0), // no time limit
      bool(false), // attribute values too, not only types
      encodeFilter(opts.filter),
      seq(opts.attributes.map((a) => octets(a))),
    ],
    APP.searchRequest,
  );
  return message(id, op, (opts.controls ?? []).map(control));
}

function result(r: BerReader): LdapResult {
  return { code: r.int("resultCode", TAG.enumerated), matchedDn: r.string("matchedDN"), message: r.string("message") };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function attributeValue(raw: Buffer): string | Buffer {
  try {
    return utf8.decode(raw);
  } catch {
    return Buffer.from(raw);
  }
}

function decodeControls(el: BerElement | undefined): LdapControl[] {
  if (!el) return [];
  return children(el).map((c) => {
    const r = new BerReader(c, "control");
    const type = r.string("controlType");
    const critical = r.optional(TAG.boolean);
    const value = r.optional(TAG.octetString);
    return { type, critical: critical ? readBool(critical) : false, ...(value ? { value: value.value } : {}) };
  });
}

/** Decodes one whole LDAPMessage (a frame cut by the stream reader). */
export function decodeMessage(frame: Buffer): LdapResponse {
  const top = new BerReader(decodeElement(frame), "LDAPMessage");
  const id = top.int("messageID");
  if (id < 0) throw new BerError(`negative message id ${id}`);
  const opEl = top.rest();
  const op = opEl[0];
  if (!op) throw new BerError("LDAPMessage: protocolOp is missing");
  const controlsEl = opEl[1];
  if (controlsEl && controlsEl.tag !== CONTROLS) throw new BerError("LDAPMessage: unexpected element after the op");
  const controls = decodeControls(controlsEl);
  switch (op.tag) {
    case APP.bindResponse:
      return { id, controls, op: "bindResponse", result: result(new BerReader(op, "BindResponse")) };
    case APP.searchDone:
      return { id, controls, op: "searchDone", result: result(new BerReader(op, "SearchResultDone")) };
    case APP.searchReference:
      return { id, controls, op: "searchReference" };
    case APP.searchEntry: {
      const r = new BerReader(op, "SearchResultEntry");
      const dn = r.string("objectName");
      const attributes = children(r.next(TAG.sequence, "attributes")).map((a) => {
        const ar = new BerReader(a, "PartialAttribute");
        const type = ar.string("type");
        const values = children(ar.next(TAG.set, "vals")).map((v) => {
          if (v.tag !== TAG.octetString) throw new BerError("attribute value is not an OCTET STRING");
          return attributeValue(v.value);
        });
        return { type, values };
      });
      return { id, controls, op: "searchEntry", dn, attributes };
    }
    case APP.extendedResponse: {
      const r = new BerReader(op, "ExtendedResponse");
      const res = result(r);
      r.optional(0xa3); // referral
      const name = r.optional(0x8a);
      const value = r.optional(0x8b);
      return {
        id,
        controls,
        op: "extendedResponse",
        result: res,
        ...(name ? { name: name.value.toString("utf8") } : {}),
        ...(value ? { value: value.value } : {}),
      };
    }
    case APP.intermediate: {
      const r = new BerReader(op, "IntermediateResponse");
      const name = r.optional(0x80);
      const value = r.optional(0x81);
      return {
        id,
        controls,
        op: "intermediate",
        ...(name ? { name: name.value.toString("utf8") } : {}),
        ...(value ? { value: value.value } : {}),
      };
    }
    default:
      return { id, controls, op: "other", tag: op.tag };
  }
}

/** An entryUUID from its 16 bytes, in the text form OpenLDAP's `entryUUID` attribute has (lower-case). */
export function uuidText(raw: Buffer): string {
  if (raw.length !== 16) throw new BerError(`a syncUUID of ${raw.length} bytes`);
  const h = raw.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** What the Sync State control (RFC 4533 section 2.3) says of one entry. */
export interface SyncState {
  state: "present" | "add" | "modify" | "delete";
  uuid: string;
  cookie?: Buffer;
}

const STATES = ["present", "add", "modify", "delete"] as const;

/** Decodes a Sync State control's value. */
export function decodeSyncState(value: Buffer): SyncState {
  const r = new BerReader(decodeElement(value), "syncStateValue");
  const state = STATES[r.int("state", TAG.enumerated)];
  if (!state) throw new BerError("syncStateValue: unknown state");
  const uuid = uuidText(r.next(TAG.octetString, "entryUUID").value);
  const cookie = r.optional(TAG.octetString);
  return { state, uuid, ...(cookie ? { cookie: cookie.value } : {}) };
}

/** A Sync Info message (RFC 4533 section 2.5). */
export type SyncInfo =
  | { kind: "newcookie"; cookie: Buffer }
  | { kind: "refreshDelete" | "refreshPresent"; cookie?: Buffer; refreshDone: boolean }
  | { kind: "syncIdSet"; cookie?: Buffer; refreshDeletes: boolean; uuids: string[] };

/** Decodes a Sync Info message's value (the CHOICE is told by its context tag). */
export function decodeSyncInfo(value: Buffer): SyncInfo {
  const el = decodeElement(value);
  if (el.tag === 0x80) return { kind: "newcookie", cookie: el.value };
  if (el.tag !== 0xa1 && el.tag !== 0xa2 && el.tag !== 0xa3)
    throw new BerError(`syncInfoValue: tag 0x${el.tag.toString(16)}`);
  const r = new BerReader(el, "syncInfoValue");
  const cookie = r.optional(TAG.octetString);
  const flag = r.optional(TAG.boolean);
  const withCookie = cookie ? { cookie: cookie.value } : {};
  if (el.tag === 0xa3) {
    const uuids = children(r.next(TAG.set, "syncUUIDs")).map((u) => {
      if (u.tag !== TAG.octetString) throw new BerError("syncUUIDs: not an OCTET STRING");
      return uuidText(u.value);
    });
    return { kind: "syncIdSet", ...withCookie, refreshDeletes: flag ? readBool(flag) : false, uuids };
  }
  // refreshDone is TRUE by default.
  return {
    kind: el.tag === 0xa1 ? "refreshDelete" : "refreshPresent",
    ...withCookie,
    refreshDone: flag ? readBool(flag) : true,
  };
}

/** Decodes a Sync Done control's value (RFC 4533 section 2.4). */
export function decodeSyncDone(value: Buffer): { cookie?: Buffer; refreshDeletes: boolean } {
  const r = new BerReader(decodeElement(value), "syncDoneValue");
  const cookie = r.optional(TAG.octetString);
  const flag = r.optional(TAG.boolean);
  return { ...(cookie ? { cookie: cookie.value } : {}), refreshDeletes: flag ? readBool(flag) : false };
}
