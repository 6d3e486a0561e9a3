/**
 * How strongly a session was authenticated, in RFC 8176 terms (`amr` values) and, for upstream logins, the
 * upstream's `acr`. Pure functions: sessions record `amr`/`acr` once at sign-in, and every later decision (policy
 * conditions, tokens' claims, the facade's Keystone `methods`) reads it through these.
 */

/** RFC 8176 values Archway itself records. */
export const AMR = {
  /** A directory or static password. */
  password: "pwd",
  /** A one-time password (TOTP or a recovery code). */
  otp: "otp",
  /** A hardware-secured key (a security key, a platform passkey). */
  hardwareKey: "hwk",
  /** A software-secured key (a synced passkey). */
  softwareKey: "swk",
  /** More than one factor was used (also added for an upstream whose `acr` is listed as strong). */
  mfa: "mfa",
  /** A federated sign-in through an upstream identity provider (not an RFC 8176 value; Keycloak and Dex use it). */
  federated: "fed",
} as const;

/**
 * `amr` values that prove a factor beyond a password: multiple factors, multiple channels, a one-time code, a key
 * the person holds, a smart card, a code sent to a phone, or a biometric. A password (`pwd`), a PIN, knowledge
 * questions, risk scores, location and Windows integrated auth (`wia`) do not.
 */
const SECOND_FACTOR = new Set([
  "mfa",
  "mca",
  "otp",
  "hwk",
  "swk",
  "sc",
  "sms",
  "tel",
  "fpt",
  "face",
  "iris",
  "retina",
  "vbm",
]);

/**
 * True when a sign-in reported by `amr` (and `acr`) counts as multi-factor: `amr` holds a second-factor value (see
 * above), or `acr` is one the identity source lists as strong (`strongAcr`). Case-sensitive, as RFC 8176 and OIDC
 * compare them.
 */
export function satisfiesMfa(
  amr: readonly string[] | undefined,
  acr?: string,
  strongAcrs?: readonly string[],
): boolean {
  if (amr) for (const value of amr) if (SECOND_FACTOR.has(value)) return true;
  return acr !== undefined && strongAcrs !== undefined && strongAcrs.includes(acr);
}

/**
 * The `amr` Archway records for a session started by an upstream OIDC login: `fed`, the upstream's own RFC 8176
 * values (only well-formed short tokens: the claim is the upstream's to fill), and `mfa` when the upstream's
 * `amr` or `acr` counts as multi-factor, so later checks need neither the upstream's `acr` nor the source's list.
 */
export function upstreamAmr(upstream: unknown, acr: unknown, strongAcrs?: readonly string[]): string[] {
  const reported = Array.isArray(upstream)
    ? upstream.filter((v): v is string => typeof v === "string" && /^[A-Za-z0-9_-]{1,32}$/.test(v))
    : [];
  const out = new Set<string>([AMR.federated, ...reported.slice(0, 16)]);
  if (satisfiesMfa(reported, typeof acr === "string" ? acr : undefined, strongAcrs)) out.add(AMR.mfa);
  return [...out];
}

/** The `acr` values Archway's own tokens carry: with or without a second factor. */
export const ARCHWAY_ACR = {
  mfa: "urn:archway:acr:mfa",
  singleFactor: "urn:archway:acr:1fa",
} as const;

/** The `acr` Archway asserts for a session of this `amr` (in ID tokens, introspection and its own JWTs). */
export function archwayAcr(amr: readonly string[]): string {
  return satisfiesMfa(amr) ? ARCHWAY_ACR.mfa : ARCHWAY_ACR.singleFactor;
}

/**
 * Keystone's `methods` for a token of a session with this `amr` (`password`, `totp`, `openid`, `webauthn`):
 * what a real Keystone lists, e.g. `["password", "totp"]` after both. `token` is added for a token made from a
 * token, as Keystone adds it on re-scoping while keeping the first token's methods.
 */
export function keystoneMethods(amr: readonly string[], rescoped = false): string[] {
  const out: string[] = [];
  if (rescoped) out.push("token");
  // An upstream sign-in is one federated method to Keystone (as its own OS-FEDERATION tokens say), whatever the
  // upstream asked of the person.
  if (amr.includes(AMR.federated)) return [...out, "openid"];
  for (const value of amr) {
    const method = KEYSTONE_METHOD[value];
    if (method && !out.includes(method)) out.push(method);
  }
  if (out.length === (rescoped ? 1 : 0)) out.push("password");
  return out;
}

/**
 * RFC 8176 value -> Keystone auth method. WebAuthn has no Keystone plugin: `webauthn` names it (clients read
 * `methods` only to show it).
 */
const KEYSTONE_METHOD: Readonly<Record<string, string>> = {
  pwd: "password",
  otp: "totp",
  hwk: "webauthn",
  swk: "webauthn",
};
