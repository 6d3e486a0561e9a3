import { z } from "zod";
import { getJson, type Store, setJson } from "../../store/index.js";
import { digestOf, GrantSchema, randomToken } from "./grants.js";

const CodeSchema = GrantSchema.extend({
  redirectUri: z.string(),
  codeChallenge: z.string().optional(),
});
/** What an authorization code stands for. */
export type CodeGrant = z.infer<typeof CodeSchema>;

/** What was issued for a code, so that a replay can revoke it (RFC 6749 section 4.1.2). */
const IssuedSchema = z.object({
  family: z.string().optional(),
  jti: z.string(),
  expiresAt: z.number(),
  /** The session the access token hangs off: its revocation is kept there. */
  sid: z.string().optional(),
  /** The offline session of an `offline_access` refresh token it produced. */
  offlineSid: z.string().optional(),
});
export type IssuedForCode = z.infer<typeof IssuedSchema>;

/** The outcome of redeeming a code. */
export type Redeemed =
  | { kind: "ok"; grant: CodeGrant; digest: string }
  | { kind: "replayed"; issued: IssuedForCode | null }
  | { kind: "unknown" };

/**
 * Authorization codes: random, short-lived, single-use, kept in the store by digest. Single use is a set-if-absent
 * on a "used" key, so two concurrent redemptions (on two Archway processes) cannot both win.
 */
export class AuthorizationCodes {
  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
  ) {}

  async issue(grant: CodeGrant): Promise<string> {
    const code = randomToken();
    await setJson(this.store, `oauth:code:${digestOf(code)}`, grant, { ttlMs: this.ttlMs });
    return code;
  }

  async redeem(code: string): Promise<Redeemed> {
    const digest = digestOf(code);
    const grant = await getJson(this.store, `oauth:code:${digest}`, CodeSchema);
    if (!grant) return { kind: "unknown" };
    // The used mark outlives the code, so a late replay is still recognised as one.
    if (!(await this.store.setIfAbsent(`oauth:code-used:${digest}`, "1", { ttlMs: this.ttlMs * 10 }))) {
      const issued = await getJson(this.store, `oauth:code-issued:${digest}`, IssuedSchema);
      return { kind: "replayed", issued };
    }
    return { kind: "ok", grant, digest };
  }

  /** Remembers what a redeemed code produced. */
  async recordIssued(digest: string, issued: IssuedForCode): Promise<void> {
    await setJson(this.store, `oauth:code-issued:${digest}`, issued, { ttlMs: this.ttlMs * 10 });
  }
}
