import { randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BerError,
  BerReader,
  children,
  decodeElement,
  int,
  octets,
  seq,
  TAG,
} from "../../../../src/identity/ldap/syncrepl/ber.js";
import {
  bindRequest,
  decodeMessage,
  decodeSyncDone,
  decodeSyncInfo,
  decodeSyncState,
  encodeFilter,
  SYNC_OID,
  searchRequest,
  syncRequestControl,
  uuidText,
} from "../../../../src/identity/ldap/syncrepl/messages.js";
import { info, reply, UUID, uuidBytes } from "./fake-server.js";

describe("LDAP requests", () => {
  it("encodes a simple bind as RFC 4511 says", () => {
    const r = new BerReader(decodeElement(bindRequest(1, "cn=svc", "pw")), "msg");
    expect(r.int("id")).toBe(1);
    const op = new BerReader(r.next(0x60, "bind"), "bind");
    expect(op.int("version")).toBe(3);
    expect(op.string("name")).toBe("cn=svc");
    expect(op.string("password", 0x80)).toBe("pw");
  });

  it("encodes a subtree search with the Sync Request control (refreshAndPersist, cookie), critical", () => {
    const msg = searchRequest(5, {
      base: "ou=people,dc=example,dc=org",
      filter: "(&(objectClass=inetOrgPerson)(!(employeeType=disabled)))",
      attributes: ["entryUUID", "uid"],
      controls: [syncRequestControl({ mode: "refreshAndPersist", cookie: Buffer.from("rid=000,csn=1") })],
    });
    const r = new BerReader(decodeElement(msg), "msg");
    expect(r.int("id")).toBe(5);
    const search = new BerReader(r.next(0x63, "search"), "search");
    expect(search.string("base")).toBe("ou=people,dc=example,dc=org");
    expect(search.int("scope", TAG.enumerated)).toBe(2);
    search.int("deref", TAG.enumerated);
    search.int("size");
    search.int("time");
    search.next(TAG.boolean, "typesOnly");
    expect(search.next(0xa0, "filter (and)").value.length).toBeGreaterThan(10);
    expect(children(search.next(TAG.sequence, "attributes")).map((a) => a.value.toString())).toEqual([
      "entryUUID",
      "uid",
    ]);
    const [control] = children(r.next(0xa0, "controls"));
    const c = new BerReader(control!, "control");
    expect(c.string("type")).toBe(SYNC_OID.request);
    expect(c.next(TAG.boolean, "critical").value[0]).not.toBe(0);
    const value = new BerReader(decodeElement(c.next(TAG.octetString, "value").value), "syncRequestValue");
    expect(value.int("mode", TAG.enumerated)).toBe(3);
    expect(value.string("cookie")).toBe("rid=000,csn=1");
  });

  it("refuses a filter it cannot parse with BerError", () => {
    expect(() => encodeFilter("(uid=a")).toThrow(BerError);
  });
});

describe("LDAP responses and RFC 4533 messages", () => {
  it("decodes an entry with its Sync State control", () => {
    const m = decodeMessage(reply.entry(2, "uid=a,ou=p", "modify", UUID.a, { uid: ["a"], entryUUID: [UUID.a] }, "c1"));
    expect(m).toMatchObject({ id: 2, op: "searchEntry", dn: "uid=a,ou=p" });
    if (m.op !== "searchEntry") throw new Error(m.op);
    expect(m.attributes).toEqual([
      { type: "uid", values: ["a"] },
      { type: "entryUUID", values: [UUID.a] },
    ]);
    const state = decodeSyncState(m.controls[0]!.value!);
    expect(state).toEqual({ state: "modify", uuid: UUID.a, cookie: Buffer.from("c1") });
  });

  it("keeps attribute values that are not UTF-8 as bytes", () => {
    const guid = Buffer.from("ff00fe01aabbccddeeff001122334455", "hex");
    const attributes = seq([seq([octets("objectGUID"), seq([octets(guid)], TAG.set)])]);
    const m = decodeMessage(seq([int(2), seq([octets("cn=x"), attributes], 0x64)]));
    if (m.op !== "searchEntry") throw new Error(m.op);
    expect(m.attributes[0]?.values[0]).toEqual(guid);
  });

  it("decodes every Sync Info choice, with refreshDone TRUE by default", () => {
    expect(decodeSyncInfo(info.newcookie("k"))).toEqual({ kind: "newcookie", cookie: Buffer.from("k") });
    expect(decodeSyncInfo(info.refreshPresent("k"))).toEqual({
      kind: "refreshPresent",
      cookie: Buffer.from("k"),
      refreshDone: true,
    });
    expect(decodeSyncInfo(info.refreshDelete(undefined, false))).toEqual({ kind: "refreshDelete", refreshDone: false });
    expect(decodeSyncInfo(info.syncIdSet([UUID.a, UUID.b], true, "k"))).toEqual({
      kind: "syncIdSet",
      cookie: Buffer.from("k"),
      refreshDeletes: true,
      uuids: [UUID.a, UUID.b],
    });
    expect(decodeSyncInfo(info.syncIdSet([UUID.c], false))).toMatchObject({ refreshDeletes: false, uuids: [UUID.c] });
  });

  it("decodes intermediate, done and bind responses", () => {
    const i = decodeMessage(reply.info(3, info.newcookie("z")));
    expect(i).toMatchObject({ id: 3, op: "intermediate", name: SYNC_OID.info });
    expect(decodeMessage(reply.done(3, 4096, "refresh required"))).toMatchObject({
      op: "searchDone",
      result: { code: 4096, message: "refresh required" },
    });
    expect(decodeMessage(reply.bind(1, 49))).toMatchObject({ op: "bindResponse", result: { code: 49 } });
    expect(decodeSyncDone(seq([octets("c9")]))).toEqual({ cookie: Buffer.from("c9"), refreshDeletes: false });
  });

  it("writes a syncUUID in entryUUID's text form and refuses one of the wrong size", () => {
    expect(uuidText(uuidBytes("c914dcb2-856c-1041-9f0a-dd62378039f6"))).toBe("c914dcb2-856c-1041-9f0a-dd62378039f6");
    expect(() => uuidText(Buffer.alloc(15))).toThrow(BerError);
  });

  it("throws only BerError for truncated or mutated responses (fuzz)", () => {
    const valid = [
      reply.entry(2, "uid=a,ou=p", "add", UUID.a, { uid: ["a"] }, "c1"),
      reply.info(2, info.syncIdSet([UUID.a, UUID.b], true, "k")),
      reply.info(2, info.refreshPresent("k")),
      reply.done(2, 0),
      reply.bind(1),
    ];
    let thrown = 0;
    for (let i = 0; i < 20_000; i++) {
      const base = valid[i % valid.length]!;
      const buf = Buffer.from(base);
      const mutations = 1 + randomInt(3);
      for (let k = 0; k < mutations; k++) buf[randomInt(buf.length)] = randomInt(256);
      const cut = i % 3 === 0 ? buf.subarray(0, randomInt(buf.length)) : buf;
      try {
        const m = decodeMessage(cut);
        for (const c of m.controls) if (c.type === SYNC_OID.state && c.value) decodeSyncState(c.value);
        if (m.op === "intermediate" && m.value) decodeSyncInfo(m.value);
      } catch (err) {
        thrown++;
        if (!(err instanceof BerError)) throw err;
      }
    }
    expect(thrown).toBeGreaterThan(0);
  });
});
