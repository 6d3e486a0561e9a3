import { describe, expect, it } from "vitest";
import { matchTotp, newTotpSecret, otpauthUri, TOTP_PERIOD_SECONDS, totpCode } from "../../../../src/identity/index.js";

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
// RFC 6238's test key (ASCII "12345678901234567890"), base32.
const RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("TOTP (RFC 6238)", () => {
  it("computes the RFC's SHA-1 test vectors (last 6 digits)", () => {
    expect(totpCode(RFC_SECRET, 59_000)).toBe("287082");
    expect(totpCode(RFC_SECRET, 1_111_111_109_000)).toBe("081804");
    expect(totpCode(RFC_SECRET, 2_000_000_000_000)).toBe("279037");
  });

  it("accepts the current code and one step either side, not two", () => {
    const secret = newTotpSecret();
    const now = 1_800_000_000_000;
    const step = Math.floor(now / STEP_MS);
    expect(matchTotp({ secret, code: totpCode(secret, now), now })).toBe(step);
    expect(matchTotp({ secret, code: totpCode(secret, now - STEP_MS), now })).toBe(step - 1);
    expect(matchTotp({ secret, code: totpCode(secret, now + STEP_MS), now })).toBe(step + 1);
    expect(matchTotp({ secret, code: totpCode(secret, now - 2 * STEP_MS), now })).toBeNull();
    expect(matchTotp({ secret, code: totpCode(secret, now + 2 * STEP_MS), now })).toBeNull();
  });

  it("refuses a step at or before the last one used: a code is accepted once", () => {
    const secret = newTotpSecret();
    const now = 1_800_000_000_000;
    const step = Math.floor(now / STEP_MS);
    expect(matchTotp({ secret, code: totpCode(secret, now), now, lastStep: step })).toBeNull();
    expect(matchTotp({ secret, code: totpCode(secret, now - STEP_MS), now, lastStep: step })).toBeNull();
    expect(matchTotp({ secret, code: totpCode(secret, now + STEP_MS), now, lastStep: step })).toBe(step + 1);
  });

  it("refuses what is not six digits, and tolerates spaces", () => {
    const secret = newTotpSecret();
    const now = 1_800_000_000_000;
    const code = totpCode(secret, now);
    expect(matchTotp({ secret, code: `${code.slice(0, 3)} ${code.slice(3)}`, now })).not.toBeNull();
    expect(matchTotp({ secret, code: "12345", now })).toBeNull();
    expect(matchTotp({ secret, code: "abcdef", now })).toBeNull();
  });

  it("writes an otpauth URI that authenticator apps read", () => {
    const uri = new URL(otpauthUri({ secret: RFC_SECRET, issuer: "Archway test", account: "alice" }));
    expect(uri.protocol).toBe("otpauth:");
    expect(uri.host).toBe("totp");
    expect(uri.searchParams.get("secret")).toBe(RFC_SECRET);
    expect(uri.searchParams.get("issuer")).toBe("Archway test");
    expect(uri.searchParams.get("digits")).toBe("6");
    expect(uri.searchParams.get("period")).toBe("30");
    expect(decodeURIComponent(uri.pathname)).toContain("alice");
  });
});
