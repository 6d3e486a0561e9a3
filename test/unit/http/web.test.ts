import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { adminCheck, safeReturnTo } from "../../../src/http/web/index.js";
import { type Identity, IdentitySchema, parseOpenSshKey, StoredKeys } from "../../../src/identity/index.js";
import { compileSubjects } from "../../../src/policy/index.js";
import { MemoryStore } from "../../../src/store/index.js";

const str = (b: Buffer) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
function ed25519(comment = "me@host"): string {
  const x = Buffer.from(generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(x)]).toString("base64")} ${comment}`;
}
function rsa(bits: number): string {
  const jwk = generateKeyPairSync("rsa", { modulusLength: bits }).publicKey.export({ format: "jwk" });
  const mpint = (b64: string) => {
    const raw = Buffer.from(b64, "base64url");
    return str((raw[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), raw]) : raw);
  };
  const blob = Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e ?? ""), mpint(jwk.n ?? "")]);
  return `ssh-rsa ${blob.toString("base64")} rsa@host`;
}
const person = (over: Partial<Identity> = {}): Identity =>
  IdentitySchema.parse({ id: "corp:1", source: "corp", username: "alice", ...over });

describe("safeReturnTo", () => {
  it("keeps same-origin relative paths and refuses everything else", () => {
    expect(safeReturnTo("/authorize?client_id=x&redirect_uri=https://rp.example/cb")).toBe(
      "/authorize?client_id=x&redirect_uri=https://rp.example/cb",
    );
    expect(safeReturnTo("/device?user_code=ABCD-EFGH")).toBe("/device?user_code=ABCD-EFGH");
    for (const bad of [undefined, "", "//evil.example", "/\\evil.example", "https://evil.example", "evil", "/a//b"])
      expect(safeReturnTo(bad)).toBe("/");
    expect(safeReturnTo("/x\r\nSet-Cookie: a=b")).toBe("/");
  });
});

describe("parseOpenSshKey", () => {
  it("accepts ed25519 and RSA >= 2048 with type, size, comment and fingerprint", () => {
    expect(parseOpenSshKey(ed25519("alice laptop"))).toMatchObject({
      type: "ssh-ed25519",
      bits: 256,
      comment: "alice laptop",
    });
    expect(parseOpenSshKey(rsa(2048))).toMatchObject({ type: "ssh-rsa", bits: 2048 });
    expect(parseOpenSshKey(ed25519()).fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
  it("refuses small RSA, DSA, a type that does not match the blob, bad base64 and control characters", () => {
    expect(() => parseOpenSshKey(rsa(1024))).toThrow(/at least 2048 bits/);
    expect(() => parseOpenSshKey(ed25519().replace(/^ssh-ed25519/, "ssh-rsa"))).toThrow(/says it is/);
    expect(() => parseOpenSshKey("ssh-dss AAAAB3NzaC1kc3M= x")).toThrow();
    expect(() => parseOpenSshKey("ssh-ed25519 not*base64")).toThrow(/base64/);
    expect(() => parseOpenSshKey(`${ed25519("a")}\u0007bell`)).toThrow(/control/);
    expect(() => parseOpenSshKey(ed25519("x".repeat(101)))).toThrow(/longer/);
  });
});

describe("StoredKeys", () => {
  it("refuses duplicates (also of directory keys) and merges stored keys after the directory's", async () => {
    const keys = new StoredKeys({ store: new MemoryStore() });
    const fromDirectory = ed25519("dir");
    const alice = person({ sshKeys: [fromDirectory] });
    const mine = ed25519("mine");
    await keys.add(alice, mine);
    await expect(keys.add(alice, mine.replace("mine", "other comment"))).rejects.toThrow(/already have/);
    await expect(keys.add(alice, fromDirectory)).rejects.toThrow(/already have/);
    expect((await keys.merge(alice)).sshKeys).toEqual([fromDirectory, mine]);
    const [stored] = await keys.list(alice.id);
    expect(await keys.remove(alice.id, stored!.fingerprint)).toBe(true);
    expect((await keys.merge(alice)).sshKeys).toEqual([fromDirectory]);
  });
});

describe("web.admins", () => {
  it("names nobody when empty, and matches like policy subjects otherwise", () => {
    expect(adminCheck({}, compileSubjects)(person())).toBe(false);
    const check = adminCheck({ groups: { anyOf: ["ops"] } }, compileSubjects);
    expect(check(person({ groups: ["ops"] }))).toBe(true);
    expect(check(person({ groups: ["dev"] }))).toBe(false);
  });
});
