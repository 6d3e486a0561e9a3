import { ArchwayError } from "../../../errors.js";

/**
 * The BER subset LDAP uses (RFC 4511 section 5.1): definite lengths only, one-byte tags. Pure functions over
 * buffers, written for input from the network: anything malformed throws {@link BerError}, nothing reads past
 * the buffer, and a declared length beyond {@link MAX_ELEMENT_BYTES} is refused before it is buffered.
 */

/** Largest element accepted (a whole LDAP message): a directory entry of a person is a few kilobytes. */
export const MAX_ELEMENT_BYTES = 16 * 1024 * 1024;

/** Universal tags LDAP uses. */
export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  octetString: 0x04,
  null: 0x05,
  enumerated: 0x0a,
  sequence: 0x30,
  set: 0x31,
} as const;

/** Malformed BER, or a message that is not what LDAP allows there: the connection cannot be trusted further. */
export class BerError extends ArchwayError {
  constructor(message: string) {
    super("ldap_protocol_error", `malformed LDAP message: ${message}`, 502);
  }
}

/** One decoded element: its tag byte and its content (the children's encodings when constructed). */
export interface BerElement {
  tag: number;
  value: Buffer;
}

/** Whether the tag byte marks a constructed element (its content is more elements). */
export function isConstructed(tag: number): boolean {
  return (tag & 0x20) !== 0;
}

/**
 * The element starting at `offset`: its tag, where its content starts and ends. Resolves undefined when the
 * buffer does not hold all of it yet (a stream reader waits for more); throws when it can never be valid.
 */
export function peekElement(buf: Buffer, offset = 0): { tag: number; start: number; end: number } | undefined {
  if (offset >= buf.length) return undefined;
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new BerError("multi-byte tags are not used by LDAP");
  if (offset + 1 >= buf.length) return undefined;
  const first = buf[offset + 1] as number;
  let length: number;
  let start: number;
  if (first < 0x80) {
    length = first;
    start = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0) throw new BerError("indefinite lengths are not allowed in LDAP");
    if (count > 4) throw new BerError(`a length of ${count} bytes`);
    if (offset + 2 + count > buf.length) return undefined;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (buf[offset + 2 + i] as number);
    start = offset + 2 + count;
  }
  if (length > MAX_ELEMENT_BYTES) throw new BerError(`an element of ${length} bytes`);
  const end = start + length;
  return end > buf.length ? undefined : { tag, start, end };
}

/** Decodes exactly one element filling `buf`. */
export function decodeElement(buf: Buffer): BerElement {
  const found = peekElement(buf, 0);
  if (!found) throw new BerError("truncated element");
  if (found.end !== buf.length) throw new BerError("bytes after the element");
  return { tag: found.tag, value: buf.subarray(found.start, found.end) };
}

/** The elements inside a constructed element's content, in order; the content must be exactly them. */
export function children(el: BerElement): BerElement[] {
  if (!isConstructed(el.tag)) throw new BerError(`tag 0x${el.tag.toString(16)} is not constructed`);
  const out: BerElement[] = [];
  let offset = 0;
  while (offset < el.value.length) {
    const found = peekElement(el.value, offset);
    if (!found) throw new BerError("truncated element inside a sequence");
    out.push({ tag: found.tag, value: el.value.subarray(found.start, found.end) });
    offset = found.end;
  }
  return out;
}

/** An INTEGER or ENUMERATED content as a number (at most 6 bytes, so it stays exact). */
export function readInt(el: BerElement): number {
  const v = el.value;
  if (v.length === 0 || v.length > 6) throw new BerError(`an integer of ${v.length} bytes`);
  return v.readIntBE(0, v.length);
}

/** A BOOLEAN content (any non-zero byte is true, as BER allows). */
export function readBool(el: BerElement): boolean {
  if (el.value.length !== 1) throw new BerError(`a boolean of ${el.value.length} bytes`);
  return el.value[0] !== 0;
}

/** Reads the children of one constructed element in order, each checked against the tag expected there. */
export class BerReader {
  readonly #items: BerElement[];
  #i = 0;

  constructor(
    el: BerElement,
    private readonly what: string,
  ) {
    this.#items = children(el);
  }

  /** The next child's tag, or undefined at the end. */
  peekTag(): number | undefined {
    return this.#items[this.#i]?.tag;
  }

  /** The next child, which must have `tag`. */
  next(tag: number, field: string): BerElement {
    const el = this.#items[this.#i];
    if (!el) throw new BerError(`${this.what}: ${field} is missing`);
    if (el.tag !== tag)
      throw new BerError(`${this.what}: ${field} has tag 0x${el.tag.toString(16)}, expected 0x${tag.toString(16)}`);
    this.#i++;
    return el;
  }

  /** The next child when it has `tag`, else undefined (an OPTIONAL or DEFAULT field left out). */
  optional(tag: number): BerElement | undefined {
    const el = this.#items[this.#i];
    if (el?.tag !== tag) return undefined;
    this.#i++;
    return el;
  }

  int(field: string, tag: number = TAG.integer): number {
    return readInt(this.next(tag, field));
  }

  string(field: string, tag: number = TAG.octetString): string {
    return this.next(tag, field).value.toString("utf8");
  }

  /** The children not read yet (extensions a later version of the protocol may add). */
  rest(): BerElement[] {
    const left = this.#items.slice(this.#i);
    this.#i = this.#items.length;
    return left;
  }
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element: tag, length, content. */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

/** A two's-complement INTEGER (or ENUMERATED with its tag) in the fewest bytes. */
export function int(value: number, tag: number = TAG.integer): Buffer {
  if (!Number.isSafeInteger(value)) throw new RangeError(`not an integer: ${value}`);
  const bytes: number[] = [];
  let n = BigInt(value);
  do {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  } while (!(n === 0n && ((bytes[0] as number) & 0x80) === 0) && !(n === -1n && ((bytes[0] as number) & 0x80) !== 0));
  return tlv(tag, Buffer.from(bytes));
}

/** An ENUMERATED. */
export function enumerated(value: number): Buffer {
  return int(value, TAG.enumerated);
}

/** A BOOLEAN (true as 0xff, as DER writes it). */
export function bool(value: boolean, tag: number = TAG.boolean): Buffer {
  return tlv(tag, Buffer.from([value ? 0xff : 0x00]));
}

/** An OCTET STRING (UTF-8 for a string). */
export function octets(value: string | Buffer, tag: number = TAG.octetString): Buffer {
  return tlv(tag, typeof value === "string" ? Buffer.from(value, "utf8") : value);
}

/** A SEQUENCE (or any constructed tag) of already encoded elements. */
export function seq(items: readonly Buffer[], tag: number = TAG.sequence): Buffer {
  return tlv(tag, Buffer.concat(items));
}

/**
 * Cuts a byte stream into whole top-level elements (LDAP messages). Bytes are kept only until their element is
 * complete, and an element declared larger than {@link MAX_ELEMENT_BYTES} throws at once rather than being waited for.
 */
export class BerFramer {
  #pending: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns the elements they complete, in order. */
  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const out: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const found = peekElement(this.#pending, offset);
      if (!found) break;
      out.push(this.#pending.subarray(offset, found.end));
      offset = found.end;
    }
    this.#pending = offset === 0 ? this.#pending : Buffer.from(this.#pending.subarray(offset));
    return out;
  }

  /** Bytes waiting for the rest of their element. */
  get buffered(): number {
    return this.#pending.length;
  }
}
