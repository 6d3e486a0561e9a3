import { Secret, TOTP } from "otpauth";
import type { FactorCheck, FactorKind, FactorRecord } from "./factor.js";

/** RFC 6238 with the parameters every authenticator app supports: SHA-1, 6 digits, 30 s. */
export const TOTP_PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Steps either side of now that are accepted: clocks drift and people type slowly. */
const WINDOW = 1;

/** A fresh 160-bit TOTP key, base32 (what the otpauth URI and a manual entry carry). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app reads from the QR code. */
export function otpauthUri(opts: { secret: string; issuer: string; account: string }): string {
  return totp(opts.secret, opts.issuer, opts.account).toString();
}

/**
 * The step (RFC 6238's T) a code matches within ±1 step of `now`, or null. A step at or before `lastStep` is
 * refused: a code is accepted once, and an older code after a newer one is a replay too.
 */
export function matchTotp(opts: { secret: string; code: string; now: number; lastStep?: number }): number | null {
  const code = opts.code.replace(/\s+/g, "");
  if (!/^\d{6}$/.test(code)) return null;
  const current = Math.floor(opts.now / 1000 / TOTP_PERIOD_SECONDS);
  const delta = TOTP.validate({
    token: code,
    secret: Secret.fromBase32(opts.secret),
    digits: DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: opts.now,
    window: WINDOW,
  });
  if (delta === null) return null;
  const step = current + delta;
  if (opts.lastStep !== undefined && step <= opts.lastStep) return null;
  return step;
}

/** The code of `secret` at `now` (tests and the enrolment check). */
export function totpCode(secret: string, now: number): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    digits: DIGITS,
    period: TOTP_PERIOD_SECONDS,
    timestamp: now,
  });
}

function totp(secret: string, issuer: string, account: string): TOTP {
  return new TOTP({
    issuer,
    label: account,
    secret: Secret.fromBase32(secret),
    digits: DIGITS,
    period: TOTP_PERIOD_SECONDS,
    algorithm: "SHA1",
  });
}

/** TOTP as a factor kind: `secret` is the base32 key, `state.lastStep` the last accepted step. */
export const totpKind: FactorKind = {
  kind: "totp",
  primary: true,
  check(record: FactorRecord, code: string, now: number): FactorCheck {
    const lastStep = typeof record.state.lastStep === "number" ? record.state.lastStep : undefined;
    const step = matchTotp({ secret: record.secret, code, now, ...(lastStep !== undefined ? { lastStep } : {}) });
    return step === null ? { matched: false } : { matched: true, state: { ...record.state, lastStep: step } };
  },
  describe: () => ({}),
};
