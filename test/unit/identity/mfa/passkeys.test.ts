import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import {
  counterAccepted,
  MAX_PASSKEYS,
  PasskeyChallenges,
  PasskeyCredentials,
  PasskeyRecordSchema,
  Passkeys,
  parseAuthenticationResponse,
  passkeyAmr,
  relyingPartyOf,
} from "../../../../src/identity/index.js";
import { MemoryStore } from "../../../../src/store/index.js";
import { Sealer } from "../../../../src/tokens/index.js";
import { alice, errorCode as code, passkeyRecord as record } from "./fixtures.js";

describe("the signature-counter rule", () => {
  it("accepts only a counter that moves forward, or authenticators that keep none", () => {
    expect(counterAccepted(5, 6)).toBe(true);
    expect(counterAccepted(0, 1)).toBe(true);
    expect(counterAccepted(0, 0)).toBe(true);
    expect(counterAccepted(5, 5)).toBe(false);
    expect(counterAccepted(5, 4)).toBe(false);
    // A counter that was kept must not drop to "none": a clone with a fresh counter would do that.
    expect(counterAccepted(5, 0)).toBe(false);
  });
});

describe("amr of a passkey use (RFC 8176)", () => {
  it("says hwk for a device-bound key, swk for a synced one, mfa only with user verification", () => {
    expect(passkeyAmr({ deviceType: "singleDevice", userVerified: true })).toEqual(["hwk", "user", "mfa"]);
    expect(passkeyAmr({ deviceType: "multiDevice", userVerified: true })).toEqual(["swk", "user", "mfa"]);
    expect(passkeyAmr({ deviceType: "singleDevice", userVerified: false })).toEqual(["hwk", "user"]);
  });
});

describe("the credential record", () => {
  it("keeps only known fields, base64url ids and short names", () => {
    expect(PasskeyRecordSchema.safeParse(record("abc_-1")).success).toBe(true);
    expect(PasskeyRecordSchema.safeParse({ ...record("abc"), extra: 1 }).success).toBe(false);
    expect(PasskeyRecordSchema.safeParse(record("a+b/c=")).success).toBe(false);
    expect(PasskeyRecordSchema.safeParse(record("abc", { name: "x".repeat(65) })).success).toBe(false);
    expect(PasskeyRecordSchema.safeParse(record("abc", { counter: -1 })).success).toBe(false);
  });

  it("refuses an answer that is not a WebAuthn assertion", () => {
    expect(() => parseAuthenticationResponse("{")).toThrow(/not JSON/);
    expect(() => parseAuthenticationResponse(JSON.stringify({ id: "a", type: "public-key" }))).toThrow(/WebAuthn/);
  });
});

describe("challenges", () => {
  it("are answered once: a second take, or a concurrent one, finds nothing", async () => {
    const challenges = new PasskeyChallenges({ store: new MemoryStore() });
    const c1 = await challenges.issue({ purpose: "passwordless", binding: "nonce-1" });
    expect(c1).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await challenges.take(c1)).toEqual({ purpose: "passwordless", binding: "nonce-1" });
    expect(await challenges.take(c1)).toBeNull();
    const c2 = await challenges.issue({ purpose: "register", personId: alice.id, binding: "s" });
    const both = await Promise.all([challenges.take(c2), challenges.take(c2), challenges.take(c2)]);
    expect(both.filter((s) => s !== null)).toHaveLength(1);
  });

  it("expire", async () => {
    let now = 1_000_000;
    const challenges = new PasskeyChallenges({ store: new MemoryStore({ now: () => now }), ttlMs: 60_000 });
    const c = await challenges.issue({ purpose: "passwordless", binding: "n" });
    now += 61_000;
    expect(await challenges.take(c)).toBeNull();
  });

  it("refuse anything that is not one of ours without a store read", async () => {
    const challenges = new PasskeyChallenges({ store: new MemoryStore() });
    expect(await challenges.take("../../etc")).toBeNull();
  });
});

describe("credentials in the store", () => {
  const make = () => {
    const store = new MemoryStore();
    return { store, creds: new PasskeyCredentials({ store, sealer: new Sealer({ current: "k".repeat(43) }) }) };
  };

  it("are sealed, listed, found by id, and removed with their index entry", async () => {
    const { store, creds } = make();
    await creds.add(alice, record("cred1"));
    await creds.add(alice, record("cred2"));
    expect((await creds.list(alice.id)).map((r) => r.id)).toEqual(["cred1", "cred2"]);
    expect((await creds.owner("cred2"))?.personId).toBe(alice.id);
    const raw = await store.get(`mfa:webauthn:person:${alice.id}`);
    expect(raw).toMatch(/^"seal1\./);
    expect(raw).not.toContain("key cred1");
    expect(await creds.remove(alice.id, "cred1")).toBe(true);
    expect(await creds.remove(alice.id, "cred1")).toBe(false);
    expect(await creds.owner("cred1")).toBeNull();
    expect((await creds.list(alice.id)).map((r) => r.id)).toEqual(["cred2"]);
  });

  it("refuse a credential registered twice, and more than the limit", async () => {
    const { creds } = make();
    await creds.add(alice, record("dup"));
    expect(await code(creds.add({ ...alice, id: "corp:2222" }, record("dup")))).toBe("passkey_exists");
    for (let i = 1; i < MAX_PASSKEYS; i++) await creds.add(alice, record(`c${i}`));
    expect(await code(creds.add(alice, record("one-too-many")))).toBe("passkey_limit");
    // The refused one left no index entry behind.
    expect(await creds.owner("one-too-many")).toBeNull();
  });

  it("move the counter forward on use and refuse one that went backwards", async () => {
    const { creds } = make();
    await creds.add(alice, record("c", { counter: 5 }));
    const used = await creds.recordUse(alice.id, "c", 6);
    expect(used.counter).toBe(6);
    expect(used.lastUsedAt).toBeDefined();
    expect(await code(creds.recordUse(alice.id, "c", 6))).toBe("passkey_counter");
    expect(await code(creds.recordUse(alice.id, "c", 2))).toBe("passkey_counter");
    expect(await code(creds.recordUse(alice.id, "gone", 9))).toBe("passkey_unknown");
  });
});

describe("ceremonies", () => {
  const rp = relyingPartyOf("https://archway.example.com/");
  const answer = (challenge: string): AuthenticationResponseJSON => ({
    id: "cred",
    rawId: "cred",
    type: "public-key",
    clientExtensionResults: {},
    response: {
      clientDataJSON: Buffer.from(
        JSON.stringify({ type: "webauthn.get", challenge, origin: "https://archway.example.com" }),
      ).toString("base64url"),
      authenticatorData: "AA",
      signature: "AA",
    },
  });

  it("take the relying party from the public URL", () => {
    expect(rp).toEqual({ id: "archway.example.com", name: "Archway", origins: ["https://archway.example.com"] });
  });

  it("refuse an answer from another browser, and its challenge is gone after", async () => {
    const passkeys = new Passkeys({ store: new MemoryStore(), sealer: new Sealer(), relyingParty: rp });
    const options = await passkeys.authenticationOptions({ binding: "browser-a" });
    expect(options?.userVerification).toBe("required");
    expect(options?.allowCredentials).toEqual([]);
    const challenge = options?.challenge ?? "";
    await expect(passkeys.authenticate({ binding: "browser-b" }, answer(challenge))).rejects.toThrow(
      /issued for another sign-in/,
    );
    await expect(passkeys.authenticate({ binding: "browser-a" }, answer(challenge))).rejects.toThrow(
      /unknown, expired or already used/,
    );
  });

  it("refuse a usernameless challenge for a second step, and offer none to a person without passkeys", async () => {
    const passkeys = new Passkeys({ store: new MemoryStore(), sealer: new Sealer(), relyingParty: rp });
    expect(await passkeys.authenticationOptions({ binding: "b", personId: alice.id })).toBeNull();
    const options = await passkeys.authenticationOptions({ binding: "b" });
    await expect(
      passkeys.authenticate({ binding: "b", personId: alice.id }, answer(options?.challenge ?? "")),
    ).rejects.toThrow(/issued for another sign-in/);
  });
});
