import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BerError,
  BerFramer,
  BerReader,
  bool,
  children,
  decodeElement,
  int,
  MAX_ELEMENT_BYTES,
  octets,
  peekElement,
  readBool,
  readInt,
  seq,
  TAG,
  tlv,
} from "../../../../src/identity/ldap/syncrepl/ber.js";

describe("BER encoding", () => {
  it("writes integers in the fewest two's-complement bytes and reads them back", () => {
    const cases: [number, string][] = [
      [0, "020100"],
      [1, "020101"],
      [127, "02017f"],
      [128, "02020080"],
      [255, "020200ff"],
      [256, "02020100"],
      [-1, "0201ff"],
      [-128, "020180"],
      [-129, "0202ff7f"],
      [2 ** 31 - 1, "02047fffffff"],
    ];
    for (const [n, hex] of cases) {
      expect(int(n).toString("hex"), String(n)).toBe(hex);
      expect(readInt(decodeElement(int(n)))).toBe(n);
    }
  });

  it("writes short and long lengths", () => {
    expect(octets("a".repeat(127)).subarray(0, 2).toString("hex")).toBe("047f");
    expect(octets("a".repeat(128)).subarray(0, 3).toString("hex")).toBe("048180");
    expect(octets("a".repeat(70_000)).subarray(0, 5).toString("hex")).toBe("0483011170");
    expect(decodeElement(octets("a".repeat(70_000))).value.length).toBe(70_000);
  });

  it("reads sequences, booleans and optional fields in order", () => {
    const el = decodeElement(seq([int(7), bool(true), octets("x")]));
    const r = new BerReader(el, "test");
    expect(r.int("n")).toBe(7);
    expect(r.optional(TAG.null)).toBeUndefined();
    expect(readBool(r.next(TAG.boolean, "flag"))).toBe(true);
    expect(r.string("s")).toBe("x");
    expect(r.peekTag()).toBeUndefined();
    expect(() => r.next(TAG.integer, "missing")).toThrow(BerError);
  });
});

describe("BER decoding of malformed input", () => {
  const bad: [string, string][] = [
    ["truncated content", "0405616263"],
    ["truncated length", "0482"],
    ["indefinite length", "30800000"],
    ["length of 5 bytes", "04850000000001"],
    ["multi-byte tag", "1f0100"],
    ["bytes after the element", "04016161"],
    ["empty integer", "0200"],
    ["seven-byte integer", "020701020304050607"],
    ["two-byte boolean", "01020000"],
  ];
  for (const [what, hex] of bad) {
    it(`throws BerError for ${what}`, () => {
      expect(() => {
        const el = decodeElement(Buffer.from(hex, "hex"));
        if (el.tag === TAG.integer) readInt(el);
        if (el.tag === TAG.boolean) readBool(el);
      }).toThrow(BerError);
    });
  }

  it("refuses a declared length over the limit before any of it arrives", () => {
    const header = Buffer.from([0x30, 0x84, 0, 0, 0, 0]);
    header.writeUInt32BE(MAX_ELEMENT_BYTES + 1, 2);
    expect(() => peekElement(header)).toThrow(BerError);
    expect(() => new BerFramer().push(header)).toThrow(/element of/);
  });

  it("refuses a sequence whose children overrun it, and children of a primitive", () => {
    expect(() => children(decodeElement(Buffer.from("3003040561", "hex")))).toThrow(BerError);
    expect(() => children(decodeElement(Buffer.from("040161", "hex")))).toThrow(/not constructed/);
  });

  it("never throws anything but BerError on random bytes, and ends", () => {
    for (let i = 0; i < 5_000; i++) {
      const buf = randomBytes(1 + (i % 64));
      try {
        const el = decodeElement(buf);
        if (el.tag & 0x20) children(el);
      } catch (err) {
        expect(err).toBeInstanceOf(BerError);
      }
    }
  });
});

describe("BerFramer", () => {
  it("cuts a stream into whole elements whatever the chunking", () => {
    const messages = [seq([int(1), octets("a".repeat(300))]), seq([int(2)]), tlv(0x42, Buffer.alloc(0))];
    const stream = Buffer.concat(messages);
    for (const size of [1, 2, 7, 300, stream.length]) {
      const framer = new BerFramer();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...framer.push(stream.subarray(i, i + size)));
      expect(out.map((b) => b.toString("hex"))).toEqual(messages.map((m) => m.toString("hex")));
      expect(framer.buffered).toBe(0);
    }
  });
});
