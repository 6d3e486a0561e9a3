import { createHash } from "node:crypto";
import { z } from "zod";
import type { UpstreamGrantSource } from "../identity/index.js";
import { mapLimit } from "../openstack/index.js";
import { getJson, type Store, setJson, updateJson } from "../store/index.js";
import type { Sealer, Session } from "../tokens/index.js";

/** What Archway keeps of one SSO login: whose it is, the upstream's session id, and its refresh token, sealed. */
const RecordSchema = z.object({
  source: z.string(),
  personId: z.string(),
  username: z.string(),
  /** Sealed for this record's store key ({@link Sealer}). */
  refreshToken: z.string().optional(),
  upstreamSid: z.string().optional(),
  absoluteEnd: z.number(),
});
/** One kept upstream grant, as the store has it (the refresh token still sealed). */
export type UpstreamGrantRecord = z.infer<typeof RecordSchema>;

/** Archway session id -> its absolute end; the sessions whose grants the detection run renews. */
const BucketSchema = z.record(z.string(), z.number());
const SidsSchema = z.array(z.string());

/** The index is split so a sign-in rewrites a small value, not one holding every SSO session. */
const BUCKETS = 16;

const keys = {
  record: (sid: string) => `sso:grant:${sid}`,
  bucket: (n: number) => `sso:grants:${n}`,
  upstreamSid: (source: string, upstreamSid: string) =>
    `sso:usid:${source}:${createHash("sha256").update(upstreamSid).digest("base64url")}`,
};

function bucketOf(sid: string): number {
  return createHash("sha256").update(sid).digest()[0]! % BUCKETS;
}

/** One refusal the detection run found: the upstream no longer renews this session's grant. */
export interface GrantRefusal {
  sid: string;
  source: UpstreamGrantSource;
  personId: string;
  username: string;
}

/** What one run of {@link UpstreamGrants.check} did. */
export interface GrantCheck {
  renewed: number;
  refused: GrantRefusal[];
  /** Grants that could not be checked this time (network, 5xx...): nothing changed, tried again next run. */
  failed: number;
}

/**
 * The upstream grants of SSO logins: per Archway login session, the upstream's session id (what its back-channel
 * logout tokens name) and refresh token (sealed like every secret the store keeps). The detection run renews each
 * live session's grant ({@link check}); a refusal is the upstream saying it no longer vouches for the person.
 */
export class UpstreamGrants {
  readonly #store: Store;
  readonly #sealer: Sealer;
  readonly #sessions: { peek(sid: string): Promise<Session | null> };
  readonly #now: () => number;

  constructor(opts: {
    store: Store;
    sealer: Sealer;
    sessions: { peek(sid: string): Promise<Session | null> };
    now?: () => number;
  }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#sessions = opts.sessions;
    this.#now = opts.now ?? Date.now;
  }

  /** Keeps what an SSO login brought for the Archway login session `sid` (nothing when it brought neither). */
  async keep(
    sid: string,
    grant: {
      source: string;
      personId: string;
      username: string;
      refreshToken?: string;
      upstreamSid?: string;
      absoluteEnd: number;
    },
  ): Promise<void> {
    const ttlMs = grant.absoluteEnd - this.#now();
    if (ttlMs <= 0 || (!grant.refreshToken && !grant.upstreamSid)) return;
    const key = keys.record(sid);
    const record: UpstreamGrantRecord = {
      source: grant.source,
      personId: grant.personId,
      username: grant.username,
      absoluteEnd: grant.absoluteEnd,
      ...(grant.refreshToken ? { refreshToken: this.#sealer.seal(grant.refreshToken, key) } : {}),
      ...(grant.upstreamSid ? { upstreamSid: grant.upstreamSid } : {}),
    };
    await setJson(this.#store, key, record, { ttlMs });
    if (grant.refreshToken)
      await updateJson(this.#store, keys.bucket(bucketOf(sid)), BucketSchema, (current) => ({
        value: { ...live(current ?? {}, this.#now()), [sid]: grant.absoluteEnd },
        result: undefined,
      }));
    if (grant.upstreamSid) {
      const usid = keys.upstreamSid(grant.source, grant.upstreamSid);
      const sids = await updateJson(this.#store, usid, SidsSchema, (current) => {
        const value = [...new Set([...(current ?? []), sid])];
        return { value, result: value };
      });
      // The list lives as long as its newest session could (a sign-in racing this one at worst drops a sid from
      // it: a logout token naming that upstream session then ends all the person's login sessions).
      await setJson(this.#store, usid, sids, { ttlMs });
    }
  }

  /** The Archway login sessions made from the upstream session `upstreamSid` of `source`. */
  async sessionsOf(source: string, upstreamSid: string): Promise<string[]> {
    return (await getJson(this.#store, keys.upstreamSid(source, upstreamSid), SidsSchema)) ?? [];
  }

  /** The kept record of a session (its refresh token still sealed), or null. */
  record(sid: string): Promise<UpstreamGrantRecord | null> {
    return getJson(this.#store, keys.record(sid), RecordSchema);
  }

  /** Forgets a session's grant (its session ended, or the upstream refused it). */
  async forget(sid: string): Promise<void> {
    const record = await this.record(sid);
    await this.#store.delete(keys.record(sid));
    await updateJson(this.#store, keys.bucket(bucketOf(sid)), BucketSchema, (current) => {
      const next = live(current ?? {}, this.#now());
      delete next[sid];
      return { value: Object.keys(next).length > 0 ? next : null, result: undefined };
    });
    if (record?.upstreamSid)
      await updateJson(this.#store, keys.upstreamSid(record.source, record.upstreamSid), SidsSchema, (current) => {
        const next = (current ?? []).filter((s) => s !== sid);
        return { value: next.length > 0 ? next : null, result: undefined };
      });
  }

  /**
   * Renews the grant of every live session from `sources` (at most `concurrency` at once). A refusal
   * (`invalid_grant`) forgets the grant and is returned for the caller to act on; a grant that cannot be checked
   * (network, 5xx, any other answer) changes nothing and is tried again next run. Grants of sessions that ended
   * or went idle are forgotten without asking the upstream (so a background check never keeps a session alive).
   */
  async check(
    sources: readonly UpstreamGrantSource[],
    opts: { concurrency?: number; onError?: (sourceId: string, message: string) => void } = {},
  ): Promise<GrantCheck> {
    const bySource = new Map(sources.filter((s) => s.refreshFailure !== "off").map((s) => [s.id, s]));
    const result: GrantCheck = { renewed: 0, refused: [], failed: 0 };
    if (bySource.size === 0) return result;
    const now = this.#now();
    const sids: string[] = [];
    for (let n = 0; n < BUCKETS; n++) {
      const bucket = (await getJson(this.#store, keys.bucket(n), BucketSchema)) ?? {};
      for (const [sid, end] of Object.entries(bucket)) if (end > now) sids.push(sid);
    }
    await mapLimit(sids, opts.concurrency ?? 8, async (sid) => {
      // One renewal of a grant at a time across processes: spending a rotated refresh token twice would look like
      // a replay to the upstream, which then revokes the whole grant.
      const lock = await this.#store.acquireLock(`${keys.record(sid)}:renew`, 60_000);
      if (!lock) return;
      try {
        const record = await this.record(sid);
        const source = record && bySource.get(record.source);
        if (!record?.refreshToken || !source) return;
        if (!(await this.#sessions.peek(sid))) {
          await this.forget(sid);
          return;
        }
        const key = keys.record(sid);
        let next: { refreshToken: string } | null;
        try {
          next = await source.renew(this.#sealer.open(record.refreshToken, key).plaintext);
        } catch (err) {
          result.failed++;
          opts.onError?.(source.id, `grant of ${record.username} not checked this time: ${(err as Error).message}`);
          return;
        }
        if (!next) {
          await this.forget(sid);
          result.refused.push({ sid, source, personId: record.personId, username: record.username });
          return;
        }
        result.renewed++;
        const ttlMs = record.absoluteEnd - this.#now();
        if (ttlMs > 0)
          await setJson(
            this.#store,
            key,
            { ...record, refreshToken: this.#sealer.seal(next.refreshToken, key) },
            {
              ttlMs,
            },
          );
      } finally {
        await lock.release();
      }
    });
    return result;
  }
}

function live(bucket: Record<string, number>, now: number): Record<string, number> {
  return Object.fromEntries(Object.entries(bucket).filter(([, end]) => end > now));
}
