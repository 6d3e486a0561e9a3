import { z } from "zod";
import { IdentitySchema } from "../../identity/index.js";

/**
 * One login session: every Archway token, OAuth grant and brokered Keystone token hangs off one. `login` sessions
 * start with a sign-in (facade password, web pages, OAuth password grant); `offline` ones with an OAuth grant of
 * `offline_access`, which outlives the browser session by design but still belongs to the person (listed,
 * revocable, ended with all of theirs).
 */
export const SessionSchema = z.object({
  sid: z.string(),
  kind: z.enum(["login", "offline"]),
  /** The person (`identity.id`), also the key of the per-person index. */
  personId: z.string(),
  /** The identity source that vouched for the person. */
  source: z.string(),
  identity: IdentitySchema,
  /**
   * How the person signed in, as RFC 8176 `amr` values (`pwd`, `otp`, `hwk`, `mfa`, `fed`...); fixed for the
   * session's life: a token made under it carries these, never more (see `satisfiesMfa`).
   */
  amr: z.array(z.string()),
  /** The upstream's `acr` for a session started by an upstream login (kept as reported, for audit). */
  acr: z.string().optional(),
  /** Milliseconds since the epoch. */
  createdAt: z.number(),
  /** The session ends then whatever happens; nothing hanging off it lives longer. */
  absoluteEnd: z.number(),
  /** Last use seen (coarse: refreshed at most once a minute per process); the idle timeout counts from it. */
  lastSeen: z.number(),
  idleMs: z.number(),
  /** Offline sessions: the client and scope of the grant, and the login session that made it. */
  clientId: z.string().optional(),
  scope: z.array(z.string()).optional(),
  parent: z.string().optional(),
});
/** A login or offline session as the store keeps it. */
export type Session = z.infer<typeof SessionSchema>;

/** The per-person index: which sessions a person has, and until when each can live at most. */
export const PersonIndexSchema = z.array(z.object({ sid: z.string(), absoluteEnd: z.number() }));

/** Store keys of sessions. */
export const sessionKeys = {
  record: (sid: string) => `session:${sid}`,
  /**
   * What was revoked under a session: `*` once it ended, else the space-separated ids (token chains, single
   * tokens) revoked under it. Absent in the common case. The one key a session token's verification reads.
   */
  revoked: (sid: string) => `session:revoked:${sid}`,
  person: (personId: string) => `session:person:${personId}`,
} as const;

/** The revocation value of an ended session. */
export const ENDED = "*";

/**
 * True when a session's revocation value (see {@link sessionKeys.revoked}) covers a token with this `jti` and
 * audit chain: the whole session ended, or the chain or the token itself was revoked.
 */
export function revokedBy(value: string | null, jti: string, chain: string | undefined): boolean {
  if (value === null) return false;
  if (value === ENDED) return true;
  for (const id of value.split(" ")) if (id === jti || id === chain) return true;
  return false;
}
