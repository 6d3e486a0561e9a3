import { describe, expect, it } from "vitest";
import type { Audit } from "../../../../src/audit/index.js";
import { DEFAULT_LOCKOUT } from "../../../../src/config/index.js";
import { AttemptGuard, MfaService, TOTP_PERIOD_SECONDS, totpCode } from "../../../../src/identity/index.js";
import { MemoryStore } from "../../../../src/store/index.js";
import { Sealer } from "../../../../src/tokens/index.js";
import { alice } from "./fixtures.js";

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;

function build(mode: "required" | "optional" | "off" = "optional") {
  const store = new MemoryStore();
  let now = 1_800_000_000_000;
  const events: Record<string, unknown>[] = [];
  const audit: Audit = async (e) => {
    events.push(e);
  };
  const limits = { ...DEFAULT_LOCKOUT, perUserAndAddress: { ...DEFAULT_LOCKOUT.perUserAndAddress, inFlightWaitMs: 0 } };
  const mfa = new MfaService({
    store,
    sealer: new Sealer({ current: "k".repeat(43) }),
    attempts: new AttemptGuard({ store, limits }),
    audit,
    modes: new Map([["corp", mode]]),
    issuer: "Archway test",
    now: () => now,
  });
  return {
    store,
    mfa,
    events,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

async function enrol(t: ReturnType<typeof build>) {
  const enrolment = await t.mfa.beginTotp(alice, "phone");
  const done = await t.mfa.confirmTotp(alice, enrolment.id, totpCode(enrolment.secret, t.now()));
  return { secret: enrolment.secret, ...done };
}

describe("MfaService", () => {
  it("activates a TOTP factor only with a confirmation code, and hands out 10 recovery codes once", async () => {
    const t = build();
    const enrolment = await t.mfa.beginTotp(alice, "phone");
    expect(enrolment.uri).toMatch(/^otpauth:\/\/totp\//);
    expect(enrolment.qrSvg).toContain("<svg");
    expect(await t.mfa.secondStep(alice)).toBe("none");
    await expect(t.mfa.confirmTotp(alice, enrolment.id, "000000")).rejects.toMatchObject({ code: "mfa_failed" });
    const done = await t.mfa.confirmTotp(alice, enrolment.id, totpCode(enrolment.secret, t.now()));
    expect(done.recoveryCodes).toHaveLength(10);
    expect(await t.mfa.secondStep(alice)).toBe("verify");
    // A second factor comes without new recovery codes.
    t.advance(STEP_MS);
    const again = await t.mfa.beginTotp(alice, "tablet");
    const second = await t.mfa.confirmTotp(alice, again.id, totpCode(again.secret, t.now()));
    expect(second.recoveryCodes).toBeUndefined();
    expect((await t.mfa.list(alice.id)).map((f) => f.kind).sort()).toEqual(["recovery", "totp", "totp"]);
  });

  it("keeps the TOTP key sealed in the store", async () => {
    const t = build();
    const { secret } = await enrol(t);
    const raw = (await t.store.get(`mfa:factors:${alice.id}`)) ?? "";
    expect(raw.startsWith("seal1.")).toBe(true);
    expect(raw).not.toContain(secret);
  });

  it("accepts a code once: the same code, or an older one, is refused afterwards", async () => {
    const t = build();
    const { secret } = await enrol(t);
    t.advance(STEP_MS);
    const code = totpCode(secret, t.now());
    expect((await t.mfa.verify(alice, code, "10.0.0.1")).amr).toEqual(["pwd", "otp"]);
    await expect(t.mfa.verify(alice, code, "10.0.0.1")).rejects.toMatchObject({ code: "mfa_failed" });
    await expect(t.mfa.verify(alice, totpCode(secret, t.now() - STEP_MS), "10.0.0.1")).rejects.toMatchObject({
      code: "mfa_failed",
    });
  });

  it("accepts only one of two concurrent uses of one code", async () => {
    const t = build();
    const { secret } = await enrol(t);
    t.advance(STEP_MS);
    const code = totpCode(secret, t.now());
    const results = await Promise.allSettled([
      t.mfa.verify(alice, code, "10.0.0.1"),
      t.mfa.verify(alice, code, "10.0.0.2"),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("takes a recovery code once", async () => {
    const t = build();
    const { recoveryCodes = [] } = await enrol(t);
    const code = recoveryCodes[3] as string;
    expect((await t.mfa.verify(alice, code.toUpperCase(), "10.0.0.1")).kind).toBe("recovery");
    await expect(t.mfa.verify(alice, code, "10.0.0.1")).rejects.toMatchObject({ code: "mfa_failed" });
    expect((await t.mfa.list(alice.id)).find((f) => f.kind === "recovery")?.remaining).toBe(9);
  });

  it("locks the (person, address) pair after 5 wrong codes; another address still works", async () => {
    const t = build();
    const { secret } = await enrol(t);
    for (let i = 0; i < 5; i++)
      await expect(t.mfa.verify(alice, "000000", "10.0.0.1")).rejects.toMatchObject({ code: "mfa_failed" });
    t.advance(STEP_MS);
    await expect(t.mfa.verify(alice, totpCode(secret, t.now()), "10.0.0.1")).rejects.toMatchObject({
      code: "login_locked",
      status: 429,
    });
    expect((await t.mfa.verify(alice, totpCode(secret, t.now()), "10.0.0.2")).kind).toBe("totp");
    expect(t.events.some((e) => e.type === "mfa.locked")).toBe(true);
  });

  it("removing the last factor needs a current code, and takes the recovery codes with it", async () => {
    const t = build();
    const { secret, factor } = await enrol(t);
    await expect(t.mfa.remove(alice, factor.id, { address: "10.0.0.1" })).rejects.toMatchObject({
      code: "mfa_required",
    });
    await expect(t.mfa.remove(alice, factor.id, { address: "10.0.0.1", freshCode: "000000" })).rejects.toMatchObject({
      code: "mfa_failed",
    });
    t.advance(STEP_MS);
    await t.mfa.remove(alice, factor.id, { address: "10.0.0.1", freshCode: totpCode(secret, t.now()) });
    expect(await t.mfa.list(alice.id)).toEqual([]);
  });

  it("an administrator's reset removes every factor and is audited with who asked", async () => {
    const t = build("required");
    await enrol(t);
    expect(await t.mfa.reset(alice.id, "web:root")).toBe(2);
    expect(await t.mfa.secondStep(alice)).toBe("enrol");
    expect(t.events).toContainEqual(
      expect.objectContaining({ type: "mfa.reset", actor: "web:root", person: alice.id }),
    );
  });

  it("a source with mfa off never asks, whatever the person enrolled", async () => {
    const t = build("off");
    await enrol(t);
    expect(await t.mfa.secondStep(alice)).toBe("none");
  });

  it("seals a pending SSO first step: the upstream refresh token never sits in the store in the clear", async () => {
    const { store, mfa } = build();
    const upstream = { source: "corp", refreshToken: "rt-upstream-secret", idToken: "id.token.x", amr: ["pwd"] };
    const { id } = await mfa.pending.start(alice, { methods: ["password"], purpose: "web", upstream });
    const raw = await store.get(`mfa:pending:${id}`);
    expect(raw).toMatch(/^seal1\./);
    expect(raw).not.toContain("rt-upstream-secret");
    expect((await mfa.pending.get(id))?.upstream?.refreshToken).toBe("rt-upstream-secret");
    // A sealed record copied under another id does not open (bound to its key).
    const other = "x".repeat(32);
    await store.set(`mfa:pending:${other}`, raw ?? "");
    await expect(mfa.pending.get(other)).rejects.toThrow();
  });
});
