import { createHash, randomInt } from "node:crypto";
import type { FactorCheck, FactorKind, FactorRecord } from "./factor.js";

/** How many recovery codes a person gets at once. */
export const RECOVERY_CODE_COUNT = 10;
/** Letters that cannot be mistaken for one another (no 0/o, 1/l/i): 32 symbols, 5 bits each. */
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const LABEL = "archway/mfa/recovery/v1";

/**
 * Ten fresh one-time codes, `xxxxx-xxxxx` (10 symbols of 31: about 49 bits each, far beyond what 5 tries per
 * address and window can guess). They are shown once; only their digests are kept.
 */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** A code as typed, folded: case, spaces and dashes do not matter. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]+/g, "");
}

/**
 * The digest kept for a code. A plain labelled SHA-256 is enough: the codes are random with ~49 bits, so nothing
 * short of that many guesses finds one from its digest (unlike a password, where a slow hash buys time).
 */
export function hashRecoveryCode(code: string): string {
  return createHash("sha256")
    .update(`${LABEL}|${normalizeRecoveryCode(code)}`)
    .digest("base64url");
}

/** The digests of the codes not used yet (`state.left`), else all of them (`secret`, space-separated). */
function left(record: FactorRecord): string[] {
  return Array.isArray(record.state.left) ? record.state.left.map(String) : record.secret.split(" ").filter(Boolean);
}

/** Recovery codes as a factor kind: each code matches once, then is gone. */
export const recoveryKind: FactorKind = {
  kind: "recovery",
  primary: false,
  check(record: FactorRecord, code: string): FactorCheck {
    const normalized = normalizeRecoveryCode(code);
    if (normalized.length !== 10) return { matched: false };
    const digest = hashRecoveryCode(normalized);
    const codes = left(record);
    if (!codes.includes(digest)) return { matched: false };
    return { matched: true, state: { ...record.state, left: codes.filter((c) => c !== digest) } };
  },
  describe: (record) => ({ remaining: left(record).length }),
};
