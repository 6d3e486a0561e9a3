import { randomUUID } from "node:crypto";
import { z } from "zod";
import { getJson, type Store, setJson } from "../../store/index.js";
import { digestOf, type Grant, GrantSchema, RandomTokens } from "./grants.js";

const RefreshSchema = GrantSchema.extend({
  family: z.string(),
  expiresAt: z.number(),
  /** An `offline_access` token: its `sid` is an offline session of its own, which the family's end ends too. */
  offline: z.boolean().optional(),
});
/** A refresh token's record. */
export type RefreshGrant = z.infer<typeof RefreshSchema>;

/** The outcome of using a refresh token. */
export type Rotated =
  | { kind: "ok"; grant: RefreshGrant; token: string }
  | { kind: "reused"; family: string; grant: RefreshGrant }
  | { kind: "invalid"; reason: string }
  | { kind: "invalid_scope"; reason: string };

/**
 * Checked before a refresh token is spent: a refusal here (the session ended, a wider scope asked for) leaves the
 * token usable, as it was never presented.
 */
export type RefreshCheck = (grant: RefreshGrant) => Promise<Exclude<Rotated, { kind: "ok" | "reused" }> | undefined>;

/**
 * Refresh tokens with rotation and reuse detection: each use returns a new token of the same family and spends the
 * old one; presenting a spent token again means it leaked, so the whole family is revoked (the thief's and the
 * owner's tokens alike), as OAuth 2.0 Security BCP section 4.14 recommends.
 */
export class RefreshTokens {
  readonly #random = new RandomTokens();

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The lifetime of a family (and of an offline session), milliseconds. */
  get lifetimeMs(): number {
    return this.ttlMs;
  }

  /**
   * Starts a new family, which never outlives the session the grant hangs off (`sessionEnd`): an offline session
   * made for it, or the sign-in session for a client with session-bound refresh tokens.
   */
  async issue(grant: Grant, opts: { offline?: boolean } = {}): Promise<{ token: string; family: string }> {
    const family = randomUUID();
    const expiresAt = Math.min(this.now() + this.ttlMs, grant.sessionEnd ?? Infinity);
    const token = await this.#write({ ...grant, family, expiresAt, ...(opts.offline ? { offline: true } : {}) });
    return { token, family };
  }

  /** Spends `token` and returns its successor, or says why not; `check` runs before anything is spent. */
  async rotate(token: string, clientId: string, check?: RefreshCheck): Promise<Rotated> {
    const digest = digestOf(token);
    const grant = await getJson(this.store, `oauth:rt:${digest}`, RefreshSchema);
    if (!grant || grant.expiresAt <= this.now()) return { kind: "invalid", reason: "unknown or expired refresh token" };
    if (grant.clientId !== clientId) return { kind: "invalid", reason: "the refresh token belongs to another client" };
    if (await this.isRevoked(grant.family)) return { kind: "invalid", reason: "the refresh token was revoked" };
    const refused = await check?.(grant);
    if (refused) return refused;
    if (!(await this.store.setIfAbsent(`oauth:rt-used:${digest}`, "1", { ttlMs: this.ttlMs }))) {
      await this.revokeFamily(grant.family);
      return { kind: "reused", family: grant.family, grant };
    }
    const next = await this.#write({ ...grant, expiresAt: grant.expiresAt });
    return { kind: "ok", grant, token: next };
  }

  /** The record behind a token without spending it (introspection, revocation). */
  async inspect(token: string): Promise<(RefreshGrant & { active: boolean }) | null> {
    const digest = digestOf(token);
    const grant = await getJson(this.store, `oauth:rt:${digest}`, RefreshSchema);
    if (!grant) return null;
    const spent = (await this.store.get(`oauth:rt-used:${digest}`)) !== null;
    const active = !spent && grant.expiresAt > this.now() && !(await this.isRevoked(grant.family));
    return { ...grant, active };
  }

  async revokeFamily(family: string): Promise<void> {
    await this.store.set(`oauth:rtf-revoked:${family}`, "1", { ttlMs: this.ttlMs });
  }

  async isRevoked(family: string): Promise<boolean> {
    return (await this.store.get(`oauth:rtf-revoked:${family}`)) !== null;
  }

  async #write(grant: RefreshGrant): Promise<string> {
    const token = this.#random.next();
    await setJson(this.store, `oauth:rt:${digestOf(token)}`, grant, {
      ttlMs: Math.max(1_000, grant.expiresAt - this.now()),
    });
    return token;
  }
}
