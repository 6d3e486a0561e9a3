import { createHash, createHmac } from "node:crypto";
import type { Group, Project, User } from "../openstack/index.js";

/**
 * How Archway knows, from the cloud itself, what it owns. Nothing without these marks is ever changed or
 * deleted: shadow users live in the cloud's dedicated domain AND carry {@link USER_MARK}; projects carry the
 * {@link PROJECT_TAG} tag (filtered server-side); groups carry {@link USER_MARK} too.
 */
export const PROJECT_TAG = "archway:managed";
/** Extra attribute: `true` on every user and group Archway created. */
export const USER_MARK = "archway_managed";
/** Extra attribute: the identity id (`<source>:<immutable id>`) a shadow user stands for. */
export const IDENTITY_ATTR = "archway_identity";
/** Extra attribute: the version of the shadow password key the user's password was derived with. */
export const KEY_VERSION_ATTR = "archway_key_version";
/** Extra attribute: ISO time the user was disabled for losing all access (absent or null while enabled). */
export const DISABLED_AT_ATTR = "archway_disabled_at";
/** Extra attribute: `{ <keypair name>: <fingerprint> }` of the Nova keypairs Archway put there for the user. */
export const KEYS_ATTR = "archway_keys";

/** The user options that keep a shadow user's derived password from expiring, locking or asking for a change. */
export const SHADOW_USER_OPTIONS = {
  ignore_password_expiry: true,
  ignore_lockout_failure_attempts: true,
  ignore_change_password_upon_first_use: true,
} as const;

/** A shadow user as Archway reads it back: the Keystone user plus its parsed marks. */
export interface OwnedUser {
  id: string;
  name: string;
  enabled: boolean;
  email?: string;
  description?: string;
  identityId: string;
  keyVersion: number;
  disabledAt?: string;
  keys: Record<string, string>;
  optionsOk: boolean;
}

/** The parsed marks of `user` when Archway owns it (right domain, marked), else null. */
export function ownedUser(user: User, domainId: string): OwnedUser | null {
  if (user.domain_id !== domainId || user[USER_MARK] !== true) return null;
  const identityId = user[IDENTITY_ATTR];
  if (typeof identityId !== "string" || !identityId) return null;
  const keys = user[KEYS_ATTR];
  const disabledAt = user[DISABLED_AT_ATTR];
  return {
    id: user.id,
    name: user.name,
    enabled: user.enabled,
    email: user.email ?? undefined,
    description: user.description ?? undefined,
    identityId,
    keyVersion: typeof user[KEY_VERSION_ATTR] === "number" ? (user[KEY_VERSION_ATTR] as number) : 0,
    disabledAt: typeof disabledAt === "string" ? disabledAt : undefined,
    keys: isStringRecord(keys) ? keys : {},
    optionsOk: Object.entries(SHADOW_USER_OPTIONS).every(([k, v]) => user.options[k] === v),
  };
}

/** True when Archway owns the project. */
export function ownsProject(project: Project): boolean {
  return project.tags.includes(PROJECT_TAG);
}

/** True when Archway owns the group (right domain, marked). */
export function ownsGroup(group: Group, domainId: string): boolean {
  return group.domain_id === domainId && group[USER_MARK] === true;
}

/**
 * The shadow user's password: HMAC-SHA256(secret, cloud id, identity id, key version), base64url. Nothing to
 * store; bumping the key version changes every password, and sync resets them.
 */
export function shadowPassword(secret: string, cloudId: string, identityId: string, keyVersion: number): string {
  // NUL separators: no id can contain one, so no two tuples map to the same message.
  return createHmac("sha256", secret).update(`${cloudId}\0${identityId}\0${keyVersion}`).digest("base64url");
}

/** An OpenSSH public key Archway can import: its canonical `type blob` form, fingerprint and comment. */
export interface ParsedKey {
  canonical: string;
  /** `SHA256:<base64>` of the key blob, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  comment: string;
}

/** Parses `type base64 [comment]`; null when it is not a public key line. */
export function parsePublicKey(line: string): ParsedKey | null {
  const [type, blob, ...rest] = line.trim().split(/\s+/);
  if (!type || !blob || !/^(ssh-|ecdsa-|sk-)[\w@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) return null;
  const digest = createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "");
  return { canonical: `${type} ${blob}`, fingerprint: `SHA256:${digest}`, comment: rest.join(" ") };
}

/** Nova keypair names allow only these characters. */
const NAME_CHARS = /[^A-Za-z0-9_\- ]/g;

/**
 * Keypair names for one person's keys: the key comment sanitized to Nova's `[A-Za-z0-9_- ]`, else a name from
 * the fingerprint; duplicates get `-2`, `-3`. Deterministic for a given list of keys (sorted by fingerprint).
 */
export function keypairNames(keys: readonly ParsedKey[]): Map<string, ParsedKey> {
  const out = new Map<string, ParsedKey>();
  const sorted = [...keys].sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0));
  for (const key of sorted) {
    const fromComment = key.comment.replace(NAME_CHARS, "_").trim().slice(0, 200);
    const base = fromComment || `key-${key.fingerprint.slice(7, 23).replace(NAME_CHARS, "_")}`;
    let name = base;
    for (let n = 2; out.has(name); n++) name = `${base}-${n}`;
    out.set(name, key);
  }
  return out;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return !!v && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}
