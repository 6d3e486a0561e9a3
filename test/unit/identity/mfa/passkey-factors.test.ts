import { describe, expect, it } from "vitest";
import type { Audit } from "../../../../src/audit/index.js";
import { DEFAULT_LOCKOUT } from "../../../../src/config/index.js";
import {
  AttemptGuard,
  credentialIdOf,
  FactorPasskeyLists,
  MfaService,
  PasskeyCredentials,
  passkeyFactorId,
  passkeyOwnerKey,
  secondStep,
  totpCode,
} from "../../../../src/identity/index.js";
import { MemoryStore } from "../../../../src/store/index.js";
import { Sealer } from "../../../../src/tokens/index.js";
import { alice, errorCode as code, passkeyRecord as passkey } from "./fixtures.js";

// Passkeys as a kind of the factor store (docs/mfa.md): one sealed value per person, one second step, one
// last-factor rule, one admin reset.

function build() {
  const store = new MemoryStore();
  const sealer = new Sealer({ current: "k".repeat(43) });
  let now = 1_800_000_000_000;
  const events: Record<string, unknown>[] = [];
  const audit: Audit = async (e) => {
    events.push(e);
  };
  const limits = { ...DEFAULT_LOCKOUT, perUserAndAddress: { ...DEFAULT_LOCKOUT.perUserAndAddress, inFlightWaitMs: 0 } };
  const mfa = new MfaService({
    store,
    sealer,
    attempts: new AttemptGuard({ store, limits }),
    audit,
    modes: new Map([["corp", "optional"]]),
    issuer: "Archway test",
    now: () => now,
  });
  const creds = new PasskeyCredentials({ store, sealer, lists: new FactorPasskeyLists(mfa.factors), now: () => now });
  return { store, mfa, creds, events, now: () => now, advance: (ms: number) => (now += ms) };
}

describe("passkeys in the factor store", () => {
  it("keeps a passkey as a webauthn factor, round trip, counter in the state, sealed", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1", { transports: ["usb"], lastUsedAt: "2026-12-06T03:10:00.000Z" }));
    const factors = await t.mfa.factors.list(alice.id);
    expect(factors.map((f) => [f.kind, f.id, f.label])).toEqual([
      ["webauthn", passkeyFactorId("cred-1"), "key cred-1"],
    ]);
    expect(factors[0]?.state).toEqual({ counter: 5 });
    expect(credentialIdOf(factors[0] as (typeof factors)[number])).toBe("cred-1");
    expect(await t.creds.list(alice.id)).toEqual([
      passkey("cred-1", { transports: ["usb"], lastUsedAt: "2026-12-06T03:10:00.000Z" }),
    ]);
    const raw = await t.store.get(`mfa:factors:${alice.id}`);
    expect(raw).not.toContain("pQECAyYgASFYIA");
    // Nothing in the passkeys' former place.
    expect(await t.store.get(`mfa:webauthn:person:${alice.id}`)).toBeNull();
    // The credential-id index still names the owner, for usernameless sign-in.
    expect((await t.creds.owner("cred-1"))?.personId).toBe(alice.id);
  });

  it("moves the counter under the factor store's lock, refusing one that goes backwards", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1"));
    await t.creds.recordUse(alice.id, "cred-1", 6);
    expect((await t.creds.list(alice.id))[0]?.counter).toBe(6);
    expect(await code(t.creds.recordUse(alice.id, "cred-1", 6))).toBe("passkey_counter");
  });

  it("counts a passkey as a factor for the second step", async () => {
    const t = build();
    expect(await t.mfa.secondStep(alice)).toBe("none");
    await t.creds.add(alice, passkey("cred-1"));
    expect(await t.mfa.secondStep(alice)).toBe("verify");
    expect(secondStep("required", [{ kind: "webauthn" }])).toBe("verify");
    expect(secondStep("optional", [{ kind: "recovery" }])).toBe("none");
  });

  it("a typed code never matches a passkey", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1"));
    expect(await code(t.mfa.verify(alice, "123456", "127.0.0.1"))).toBe("mfa_failed");
  });

  it("gives recovery codes with a first passkey, not with a second factor", async () => {
    const t = build();
    expect(await t.mfa.firstFactorRecoveryCodes(alice)).toBeUndefined();
    await t.creds.add(alice, passkey("cred-1"));
    const codes = await t.mfa.firstFactorRecoveryCodes(alice);
    expect(codes).toHaveLength(10);
    expect(await t.mfa.firstFactorRecoveryCodes(alice)).toBeUndefined();
    // A TOTP added next is not a first factor: no new codes.
    const enrolment = await t.mfa.beginTotp(alice, "phone");
    const done = await t.mfa.confirmTotp(alice, enrolment.id, totpCode(enrolment.secret, t.now()));
    expect(done.recoveryCodes).toBeUndefined();
    expect((await t.mfa.list(alice.id)).map((f) => f.kind).sort()).toEqual(["recovery", "totp", "webauthn"]);
  });

  it("removing the last factor, a passkey, needs a recovery code; the index entry goes with it", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1"));
    const codes = (await t.mfa.firstFactorRecoveryCodes(alice)) as string[];
    const id = passkeyFactorId("cred-1");
    expect(await code(t.mfa.remove(alice, id, { address: "127.0.0.1" }))).toBe("mfa_required");
    expect(await code(t.mfa.remove(alice, id, { freshCode: "aaaaa-aaaaa", address: "127.0.0.1" }))).toBe("mfa_failed");
    await t.mfa.remove(alice, id, { freshCode: codes[0] as string, address: "127.0.0.1" });
    expect(await t.mfa.list(alice.id)).toEqual([]);
    expect(await t.creds.owner("cred-1")).toBeNull();
    expect(await t.store.get(passkeyOwnerKey("cred-1"))).toBeNull();
  });

  it("removing a passkey beside a TOTP factor needs nothing more; removing the TOTP then is the last one", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1"));
    await t.creds.add(alice, passkey("cred-2"));
    await t.mfa.remove(alice, passkeyFactorId("cred-1"), { address: "127.0.0.1" });
    expect((await t.creds.list(alice.id)).map((r) => r.id)).toEqual(["cred-2"]);
    expect(await t.creds.owner("cred-1")).toBeNull();
    expect((await t.creds.owner("cred-2"))?.personId).toBe(alice.id);
    expect(await code(t.mfa.remove(alice, passkeyFactorId("cred-2"), { address: "127.0.0.1" }))).toBe("mfa_required");
  });

  it("an administrator's reset clears passkeys and their index entries, audited", async () => {
    const t = build();
    await t.creds.add(alice, passkey("cred-1"));
    await t.mfa.firstFactorRecoveryCodes(alice);
    expect(await t.mfa.reset(alice.id, "web:admin")).toBe(2);
    expect(await t.creds.list(alice.id)).toEqual([]);
    expect(await t.creds.owner("cred-1")).toBeNull();
    expect(t.events).toContainEqual(expect.objectContaining({ type: "mfa.reset", person: alice.id, removed: 2 }));
  });
});
