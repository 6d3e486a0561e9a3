import { describe, expect, it } from "vitest";
import { isSealed, Sealer, storeSealer } from "../../../src/tokens/index.js";

const KEY = "k".repeat(44);
const NEXT = "n".repeat(44);
const SECRET = '{"token":"gAAAAABkeystone-token-value"}';

describe("sealing values kept in the store", () => {
  it("seals with AES-256-GCM so the plaintext is not in the value, and opens it again", () => {
    const sealer = new Sealer({ current: KEY });
    const sealed = sealer.seal(SECRET, "broker:0:alice:cloud-1:p");
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain("keystone-token");
    expect(sealed).not.toBe(sealer.seal(SECRET, "broker:0:alice:cloud-1:p"));
    expect(sealer.open(sealed, "broker:0:alice:cloud-1:p")).toEqual({ plaintext: SECRET, stale: false });
  });

  it("refuses a value whose ciphertext, tag or IV was changed", () => {
    const sealer = new Sealer({ current: KEY });
    const sealed = sealer.seal(SECRET, "ctx");
    const parts = sealed.split(".");
    for (const i of [2, 3, 4]) {
      const altered = [...parts];
      const bytes = Buffer.from(altered[i]!, "base64url");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      altered[i] = bytes.toString("base64url");
      expect(() => sealer.open(altered.join("."), "ctx")).toThrow(/altered/);
    }
    expect(() => sealer.open(`${sealed}.extra`, "ctx")).toThrow(/malformed/);
  });

  it("refuses a value moved to another entry (the store key is associated data)", () => {
    const sealer = new Sealer({ current: KEY });
    const bobs = sealer.seal(SECRET, "broker:0:bob:cloud-1:p");
    expect(() => sealer.open(bobs, "broker:0:alice:cloud-1:p")).toThrow(/sealed_unreadable|altered/);
  });

  it("refuses a value sealed with a key it does not have, and says which secrets to check", () => {
    const sealed = new Sealer({ current: KEY }).seal(SECRET, "ctx");
    expect(() => new Sealer({ current: NEXT }).open(sealed, "ctx")).toThrow(/secrets\.storeKey/);
    // Without any key a sealed value is refused too: never guessed at, never taken for plain text.
    expect(() => new Sealer().open(sealed, "ctx")).toThrow(/secrets\.storeKey/);
  });

  it("refuses a plain value once a key is set, and passes values through when none is", () => {
    expect(() => new Sealer({ current: KEY }).open(SECRET, "ctx")).toThrow(/not sealed/);
    const off = new Sealer();
    expect(off.enabled).toBe(false);
    expect(off.seal(SECRET, "ctx")).toBe(SECRET);
    expect(off.open(SECRET, "ctx")).toEqual({ plaintext: SECRET, stale: false });
  });

  it("rotates: a previous key still opens (marked stale), only the current one seals", () => {
    const old = new Sealer({ current: KEY });
    const sealedOld = old.seal(SECRET, "ctx");
    const rotated = new Sealer({ current: NEXT, previous: [KEY] });
    expect(rotated.open(sealedOld, "ctx")).toEqual({ plaintext: SECRET, stale: true });
    const sealedNew = rotated.seal(SECRET, "ctx");
    expect(sealedNew.split(".")[1]).not.toBe(sealedOld.split(".")[1]);
    expect(rotated.open(sealedNew, "ctx").stale).toBe(false);
    // The old key alone cannot open what the new one sealed; dropping it from previous ends its reach.
    expect(() => old.open(sealedNew, "ctx")).toThrow(/sealed_unreadable|storeKey/);
    expect(() => new Sealer({ current: NEXT }).open(sealedOld, "ctx")).toThrow(/storeKey/);
  });

  it("takes secrets.storeKey, else shadowPasswordKey under its own label, else nothing", () => {
    const fromShadow = storeSealer({ shadowPasswordKey: KEY, previousStoreKeys: [] });
    expect(fromShadow.enabled).toBe(true);
    // The same secret as a store key seals identically: moving it to storeKey (or previousStoreKeys) keeps values.
    expect(new Sealer({ current: KEY }).open(fromShadow.seal(SECRET, "c"), "c").plaintext).toBe(SECRET);
    const explicit = storeSealer({ storeKey: NEXT, shadowPasswordKey: KEY, previousStoreKeys: [KEY] });
    expect(explicit.open(fromShadow.seal(SECRET, "c"), "c")).toEqual({ plaintext: SECRET, stale: true });
    expect(storeSealer({ previousStoreKeys: [] }).enabled).toBe(false);
  });
});
