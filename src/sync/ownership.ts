import { createHash, createHmac } from "node:crypto";
import type { Config } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Group, Project, User } from "../openstack/index.js";

/**
 * How Archway knows, from the cloud itself, what it owns. Nothing without these marks is ever changed or
 * deleted: shadow users live in the cloud's dedicated domain AND carry {@link USER_MARK}; projects carry the
 * {@link PROJECT_TAG} tag (filtered server-side); groups carry {@link USER_MARK} too. Every mark also names the
 * deployment that wrote it ({@link DEPLOYMENT_ATTR}, {@link deploymentTag}): several Archway deployments may share
 * one Keystone and domain, and none touches what another marked (docs/sync.md, "Ownership").
 */
export const PROJECT_TAG = "archway:managed";
/** Extra attribute: `true` on every user and group Archway created. */
export const USER_MARK = "archway_managed";
/** Extra attribute: the `deploymentId` of the Archway deployment that owns the user or group. */
export const DEPLOYMENT_ATTR = "archway_deployment";
/** Project tags naming the owning deployment start with this (Keystone tags: no `,` or `/`, at most 255 chars). */
export const DEPLOYMENT_TAG_PREFIX = "archway:dep:";
/** Extra attribute: the identity id (`<source>:<immutable id>`) a shadow user stands for. */
export const IDENTITY_ATTR = "archway_identity";
/** Extra attribute: the version of the shadow password key the user's password was derived with. */
export const KEY_VERSION_ATTR = "archway_key_version";
/** Extra attribute: ISO time the user was disabled for losing all access (absent or null while enabled). */
export const DISABLED_AT_ATTR = "archway_disabled_at";
/** Extra attribute: `{ <keypair name>: <fingerprint> }` of the Nova keypairs Archway put there for the user. */
export const KEYS_ATTR = "archway_keys";
/** The deployment id of demo mode when the config names none. */
export const DEMO_DEPLOYMENT_ID = "demo";

/** Whose marks this process writes and honours. */
export interface Ownership {
  /** Config `deploymentId`: written into every mark, and the only marks Archway changes objects under. */
  deploymentId: string;
  /**
   * Take over objects that carry Archway's mark from before deployment ids (no deployment named), and re-mark
   * them as this deployment's. Off: they are another deployment's, never touched.
   */
  adoptUnmarked: boolean;
}

/**
 * The ownership a configuration gives: `deploymentId` (in demo mode `demo` when absent), and whether it adopts the
 * marks from before deployment ids (`sync.adoptUnmarked`, off unless set: nothing is taken over silently).
 */
export function ownershipOf(config: Pick<Config, "deploymentId" | "demo" | "sync">): Ownership {
  const id = config.deploymentId ?? (config.demo ? DEMO_DEPLOYMENT_ID : undefined);
  if (!id) {
    throw new ArchwayError(
      "config_missing_deployment_id",
      "deploymentId is required outside demo mode: a short name unique among the Archway deployments sharing a Keystone (e.g. deploymentId: prod-eu); it goes into every mark Archway writes in the clouds",
      500,
    );
  }
  return { deploymentId: id, adoptUnmarked: config.sync.adoptUnmarked ?? false };
}

/** The project tag naming the deployment. */
export function deploymentTag(deploymentId: string): string {
  return `${DEPLOYMENT_TAG_PREFIX}${deploymentId}`;
}

/**
 * Whose an object is, from its marks. `self`: this deployment's; `remark` when it carries only the old mark and is
 * adopted (`adoptUnmarked`), so sync writes the deployment mark. `other`: another deployment's (`deploymentId`
 * null for the old mark, not adopted). `none`: no Archway mark at all.
 */
export type Mark =
  | { owner: "self"; remark: boolean }
  | { owner: "other"; deploymentId: string | null }
  | { owner: "none" };

/**
 * The rule every kind shares: not marked -> none; marked with this deployment only -> self; marked with another
 * deployment -> other; marked without a deployment -> self (re-mark) when adopting, else other.
 */
export function classifyMark(marked: boolean, deploymentIds: readonly string[], ownership: Ownership): Mark {
  if (!marked) return { owner: "none" };
  const others = deploymentIds.filter((d) => d !== ownership.deploymentId);
  if (others.length > 0) return { owner: "other", deploymentId: others[0] ?? null };
  if (deploymentIds.length > 0) return { owner: "self", remark: false };
  return ownership.adoptUnmarked ? { owner: "self", remark: true } : { owner: "other", deploymentId: null };
}

/** The marks of a project (its tags). */
export function projectMark(project: Pick<Project, "tags">, ownership: Ownership): Mark {
  const deployments = project.tags.filter(
    (t) => t.startsWith(DEPLOYMENT_TAG_PREFIX) && t.length > DEPLOYMENT_TAG_PREFIX.length,
  );
  return classifyMark(
    project.tags.includes(PROJECT_TAG),
    deployments.map((t) => t.slice(DEPLOYMENT_TAG_PREFIX.length)),
    ownership,
  );
}

/** The marks of a user or group (its extra attributes); only objects in Archway's domain can be Archway's. */
export function extraMark(object: User | Group, domainId: string, ownership: Ownership): Mark {
  if (object.domain_id !== domainId) return { owner: "none" };
  const dep = object[DEPLOYMENT_ATTR];
  return classifyMark(object[USER_MARK] === true, typeof dep === "string" && dep ? [dep] : [], ownership);
}

/** The tags every project Archway creates carries. */
export function projectMarks(ownership: Ownership): string[] {
  return [PROJECT_TAG, deploymentTag(ownership.deploymentId)];
}

/** The extra attributes every user and group Archway creates carries. */
export function extraMarks(ownership: Ownership): Record<string, unknown> {
  return { [USER_MARK]: true, [DEPLOYMENT_ATTR]: ownership.deploymentId };
}

/** Why an object Archway may not touch is not its own, for plan problems. */
export function whose(mark: Mark): string {
  if (mark.owner === "none") return "without Archway's mark";
  if (mark.owner === "self") return "as this deployment's";
  return mark.deploymentId
    ? `marked by Archway deployment '${mark.deploymentId}'`
    : "with Archway's mark from before deployment ids (set sync.adoptUnmarked: true on the deployment that made it)";
}

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
  /** Carries only the old mark and is adopted: the deployment mark is still to be written. */
  remark: boolean;
}

/** The parsed marks of `user` when this deployment owns it (right domain, its mark), else null. */
export function ownedUser(user: User, domainId: string, ownership: Ownership): OwnedUser | null {
  const mark = extraMark(user, domainId, ownership);
  if (mark.owner !== "self") return null;
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
    remark: mark.remark,
  };
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
