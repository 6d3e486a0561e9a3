/**
 * Active Directory's encodings, as pure functions: the binary objectGUID's text form, userAccountControl flags,
 * accountExpires, the logon name forms (`user@realm`, `DOMAIN\user`), bind refusal codes and uSNChanged marks.
 */

/** Attributes AD stores as raw bytes; ldapts must hand them over as Buffers (it decodes valid UTF-8 otherwise). */
export const AD_BINARY_ATTRIBUTES = ["objectGUID", "objectSid"] as const;

/**
 * objectGUID's 16 bytes as the standard GUID string, as AD tools print it (`samba-tool`, PowerShell): the
 * first three fields are stored little-endian, the last two as they are.
 */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new Error(`an objectGUID has 16 bytes, not ${bytes.length}`);
  const h = Buffer.from(bytes).toString("hex");
  const le = (s: string) => s.match(/../g)!.reverse().join("");
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** userAccountControl bits Archway reads (MS-ADTS 2.2.16). */
export const UAC = {
  ACCOUNTDISABLE: 0x2,
  LOCKOUT: 0x10,
  NORMAL_ACCOUNT: 0x200,
  DONT_EXPIRE_PASSWORD: 0x10000,
  PASSWORD_EXPIRED: 0x800000,
} as const;

/**
 * What a userAccountControl value says. `disabled` is the only one that ends access: the lockout bit is
 * temporary (AD unlocks by itself), and anyone can set it off with wrong passwords, so treating it as a departure
 * would let a stranger offboard people; the DC refuses a locked account's bind itself.
 */
export function uacFlags(value: string | undefined): { disabled: boolean; locked: boolean; passwordExpired: boolean } {
  const n = value === undefined || !/^-?\d+$/.test(value.trim()) ? 0 : Number(value.trim()) >>> 0;
  return {
    disabled: (n & UAC.ACCOUNTDISABLE) !== 0,
    locked: (n & UAC.LOCKOUT) !== 0,
    passwordExpired: (n & UAC.PASSWORD_EXPIRED) !== 0,
  };
}

/** 100-ns ticks between 1601-01-01 (Windows FILETIME's epoch) and 1970-01-01. */
const FILETIME_UNIX_EPOCH = 116_444_736_000_000_000n;
const NEVER = 0x7fff_ffff_ffff_ffffn;

/**
 * The instant an `accountExpires` value names, or undefined for "never": 0 and 0x7FFFFFFFFFFFFFFF both mean
 * never (AD writes either), as does a missing or unreadable value.
 */
export function accountExpiry(value: string | undefined): Date | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  const ticks = BigInt(value.trim());
  if (ticks === 0n || ticks >= NEVER) return undefined;
  return new Date(Number((ticks - FILETIME_UNIX_EPOCH) / 10_000n));
}

/** True when `accountExpires` lies at or before `now` (AD refuses the account from that instant on). */
export function accountExpired(value: string | undefined, now: Date): boolean {
  const at = accountExpiry(value);
  return at !== undefined && at.getTime() <= now.getTime();
}

/** What a person typed, read as AD reads logon names. */
export type LogonName =
  | { kind: "sam"; sam: string }
  /** `local@suffix`: a userPrincipalName, or the implicit UPN `sAMAccountName@<DNS domain>`. */
  | { kind: "upn"; upn: string; local: string; suffix: string };

/**
 * Parses `DOMAIN\user` (down-level logon name), `user@suffix` (UPN) or a bare `user`. A down-level name of
 * another domain resolves to null: that person is not in this directory. Domains compare case-insensitively.
 */
export function parseLogonName(input: string, domain: { netbios?: string; dns?: string }): LogonName | null {
  const slash = input.indexOf("\\");
  if (slash >= 0) {
    const prefix = input.slice(0, slash).toLowerCase();
    const sam = input.slice(slash + 1);
    const known = [domain.netbios, domain.dns].filter((d): d is string => !!d).map((d) => d.toLowerCase());
    if (sam === "" || sam.includes("\\") || !known.includes(prefix)) return null;
    return { kind: "sam", sam };
  }
  const at = input.lastIndexOf("@");
  if (at > 0 && at < input.length - 1)
    return { kind: "upn", upn: input, local: input.slice(0, at), suffix: input.slice(at + 1) };
  return { kind: "sam", sam: input };
}

/** Why AD refused a bind, from the `data XXX` of its error 49 (never shown to the person: all read "wrong"). */
export type BindRefusal =
  | "invalid_credentials"
  | "no_such_user"
  | "logon_hours"
  | "workstation"
  | "password_expired"
  | "account_disabled"
  | "account_expired"
  | "must_change_password"
  | "account_locked"
  | "unknown";

const REFUSALS: Record<string, BindRefusal> = {
  "525": "no_such_user",
  "52e": "invalid_credentials",
  "530": "logon_hours",
  "531": "workstation",
  "532": "password_expired",
  "533": "account_disabled",
  "701": "account_expired",
  "773": "must_change_password",
  "775": "account_locked",
};

/** The refusal a bind error message names (`... AcceptSecurityContext error, data 52e, v1db1`). */
export function bindRefusal(message: string): { code?: string; reason: BindRefusal } {
  const code = /\bdata ([0-9a-f]{3,8})\b/i.exec(message)?.[1]?.toLowerCase();
  return { code, reason: (code && REFUSALS[code]) || (code ? "unknown" : "invalid_credentials") };
}

/**
 * A change mark in the DC's own counter: uSNChanged values are per domain controller, so the mark names the DC
 * (its `dsServiceName`) and a mark from another DC is no mark at all (everyone is listed).
 */
export function usnMark(usn: string, dsServiceName: string): string {
  return `usn:${usn}:${dsServiceName}`;
}

/** The USN and DC of a mark made by {@link usnMark}, or undefined for anything else (a time mark, garbage). */
export function parseUsnMark(mark: string): { usn: bigint; dc: string } | undefined {
  const m = /^usn:(\d+):(.+)$/s.exec(mark);
  return m ? { usn: BigInt(m[1]!), dc: m[2]! } : undefined;
}

/** OpenSSH public key line shape: a known type, base64, an optional comment (AD attributes mix in other values). */
const SSH_KEY =
  /^(ssh-ed25519|ssh-rsa|ssh-dss|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com)\s+[A-Za-z0-9+/]+={0,2}(\s.*)?$/;

/** True for an OpenSSH public key line (`altSecurityIdentities` also holds `X509:` and `Kerberos:` mappings). */
export function isSshKeyLine(value: string): boolean {
  return SSH_KEY.test(value.trim());
}
