import { randomUUID } from "node:crypto";
import type { Audit } from "../../audit/index.js";
import type { Identity } from "../../identity/index.js";
import { getJson, type Store, setJson } from "../../store/index.js";
import { ENDED, PersonIndexSchema, type Session, SessionSchema, sessionKeys } from "./record.js";

/** How {@link IdentitySessions} is built. */
export interface SessionOptions {
  store: Store;
  /** Absolute lifetime of a login session (`sessions.absoluteSeconds`). */
  absoluteMs?: number;
  /** Idle timeout of a login session (`sessions.idleSeconds`). */
  idleMs?: number;
  /** @deprecated the absolute lifetime under its old name. */
  ttlMs?: number;
  audit?: Audit;
  now?: () => number;
}

/** How a session starts. */
export interface SessionStart {
  kind?: Session["kind"];
  /** RFC 8176 values; default `["pwd"]` (a directory password). An upstream login passes its own (`upstreamAmr`). */
  amr?: string[];
  /** The upstream's `acr`, when an upstream login reported one. */
  acr?: string;
  /** A shorter (never longer) absolute lifetime than the configured one, e.g. the web pages' own. */
  absoluteMs?: number;
  idleMs?: number;
  clientId?: string;
  scope?: string[];
  parent?: string;
}

/** Something to do when a session ends (purge the broker's cached Keystone tokens of the person...). */
export type SessionEndHook = (session: Session, reason: string) => Promise<void>;

/** A use refreshes `lastSeen` in the store at most this often per process: the idle timeout is coarse anyway. */
const TOUCH_MS = 60_000;
/** Extra life of a revocation value beyond the session's end: the tokens' own clock tolerance. */
const REVOCATION_SLACK_MS = 60_000;

/**
 * Login sessions in the store, under a random id that Archway's tokens (`sid` claim), OAuth grants and web sessions
 * carry. A session has an absolute end and an idle timeout; ending it (sign-out, `/oauth2/logout`, an admin, the
 * person's departure) writes one marker that every token verification of that session reads anyway (see
 * `TokenService.verify`), so the end takes effect on the next request in every process. The identity itself is
 * read from a local copy at most 5 s old ({@link recent}): only the identity, never whether the session lives.
 */
export class IdentitySessions {
  readonly #store: Store;
  readonly #absoluteMs: number;
  readonly #idleMs: number;
  readonly #audit: Audit | undefined;
  readonly #now: () => number;
  readonly #hooks: SessionEndHook[] = [];
  readonly #recent = new Map<string, { until: number; session: Session }>();
  static readonly LOCAL_MS = 5_000;

  constructor(opts: SessionOptions) {
    this.#store = opts.store;
    this.#absoluteMs = opts.absoluteMs ?? opts.ttlMs ?? 12 * 3600_000;
    this.#idleMs = Math.min(opts.idleMs ?? 2 * 3600_000, this.#absoluteMs);
    this.#audit = opts.audit;
    this.#now = opts.now ?? Date.now;
  }

  /** The configured absolute lifetime, milliseconds. */
  get absoluteMs(): number {
    return this.#absoluteMs;
  }

  /** Registers something to do whenever a session ends. */
  onEnd(hook: SessionEndHook): void {
    this.#hooks.push(hook);
  }

  /** Starts a session for `identity` and adds it to the person's index. */
  async create(identity: Identity, opts: SessionStart = {}): Promise<Session> {
    const now = this.#now();
    const kind = opts.kind ?? "login";
    // Offline sessions carry their own lifetime (the refresh token's); login sessions never exceed the configured one.
    const absoluteMs =
      kind === "offline"
        ? (opts.absoluteMs ?? this.#absoluteMs)
        : Math.min(opts.absoluteMs ?? Infinity, this.#absoluteMs);
    const session: Session = {
      sid: randomUUID(),
      kind,
      personId: identity.id,
      source: identity.source,
      identity,
      amr: opts.amr ?? ["pwd"],
      ...(opts.acr !== undefined ? { acr: opts.acr } : {}),
      createdAt: now,
      absoluteEnd: now + absoluteMs,
      lastSeen: now,
      idleMs: Math.min(opts.idleMs ?? (kind === "offline" ? absoluteMs : this.#idleMs), absoluteMs),
      ...(opts.clientId ? { clientId: opts.clientId } : {}),
      ...(opts.scope ? { scope: opts.scope } : {}),
      ...(opts.parent ? { parent: opts.parent } : {}),
    };
    await this.#updateIndex(identity.id, (list) => [...list, { sid: session.sid, absoluteEnd: session.absoluteEnd }]);
    await this.#write(session);
    await this.#audit?.({ type: "session.started", actor: identity.id, sid: session.sid, kind, amr: session.amr });
    return session;
  }

  /** The session if this process read it in the last few seconds: {@link session} without waiting. */
  recentSession(sid: string): Session | undefined {
    const hit = this.#recent.get(sid);
    return hit && hit.until > this.#now() ? hit.session : undefined;
  }

  /** The session's identity if this process read it in the last few seconds: {@link get} without waiting. */
  recent(sid: string): Identity | undefined {
    const hit = this.#recent.get(sid);
    return hit && hit.until > this.#now() ? hit.session.identity : undefined;
  }

  /** The session's identity, or null once it ended, expired or went idle. */
  async get(sid: string): Promise<Identity | null> {
    return (await this.session(sid))?.identity ?? null;
  }

  /** The session (a local copy at most {@link LOCAL_MS} old), or null once it ended, expired or went idle. */
  async session(sid: string): Promise<Session | null> {
    const now = this.#now();
    const hit = this.#recent.get(sid);
    if (hit && hit.until > now) return hit.session;
    const session = await this.alive(sid);
    if (session) {
      if (this.#recent.size >= 10_000) this.#recent.clear();
      this.#recent.set(sid, { until: now + IdentitySessions.LOCAL_MS, session });
    } else this.#recent.delete(sid);
    return session;
  }

  /**
   * The session as the store has it now (no local copy), or null when it ended, expired or went idle: for
   * grants (codes, refreshes, device approvals), which are rarer than token checks and must see an end at once.
   */
  async alive(sid: string): Promise<Session | null> {
    const [session, revoked] = await Promise.all([
      getJson(this.#store, sessionKeys.record(sid), SessionSchema),
      this.#store.get(sessionKeys.revoked(sid)),
    ]);
    const now = this.#now();
    if (!session || revoked === ENDED || now >= session.absoluteEnd || now - session.lastSeen >= session.idleMs)
      return null;
    if (now - session.lastSeen >= TOUCH_MS) {
      session.lastSeen = now;
      await this.#write(session);
    }
    return session;
  }

  /** Every live session of a person, login and offline, oldest first. */
  async listFor(personId: string): Promise<Session[]> {
    const index = (await getJson(this.#store, sessionKeys.person(personId), PersonIndexSchema)) ?? [];
    const now = this.#now();
    const found = await Promise.all(index.filter((e) => e.absoluteEnd > now).map((e) => this.alive(e.sid)));
    return found.filter((s): s is Session => s !== null && s.personId === personId);
  }

  /**
   * Ends a session: its tokens are refused from the next request on (every process), its grants and refresh
   * tokens from the next use, and the end hooks run (the broker forgets the person's cached Keystone tokens).
   * Resolves false when there was no such live session.
   */
  async end(sid: string, reason: string): Promise<boolean> {
    const session = await getJson(this.#store, sessionKeys.record(sid), SessionSchema);
    this.#recent.delete(sid);
    // The marker first: from here on no token of the session verifies, whatever follows fails.
    const untilMs = (session?.absoluteEnd ?? this.#now() + this.#absoluteMs) - this.#now() + REVOCATION_SLACK_MS;
    await this.#store.set(sessionKeys.revoked(sid), ENDED, { ttlMs: Math.max(1_000, untilMs) });
    await this.#store.delete(sessionKeys.record(sid));
    if (!session) return false;
    await this.#updateIndex(session.personId, (list) => list.filter((e) => e.sid !== sid));
    for (const hook of this.#hooks) await hook(session, reason);
    await this.#audit?.({ type: "session.ended", actor: session.personId, sid, kind: session.kind, reason });
    return true;
  }

  /**
   * Ends every session of a person (login and offline) and so everything hanging off them; resolves how many
   * were live. For departures, disables and an administrator's "end all sessions"; with `kind`, only sessions of
   * that kind.
   */
  async endPerson(personId: string, reason: string, opts: { kind?: Session["kind"] } = {}): Promise<number> {
    const index = (await getJson(this.#store, sessionKeys.person(personId), PersonIndexSchema)) ?? [];
    let ended = 0;
    for (const { sid } of index) {
      // Only one kind (an upstream sign-out ends login sessions; offline grants outlive them by design).
      if (opts.kind && (await getJson(this.#store, sessionKeys.record(sid), SessionSchema))?.kind !== opts.kind)
        continue;
      if (await this.end(sid, reason)) ended++;
    }
    return ended;
  }

  /**
   * Whether the session lives, as the store has it now, without counting as a use (background checks must not
   * hold a session open past its idle timeout).
   */
  async peek(sid: string): Promise<Session | null> {
    const [session, revoked] = await Promise.all([
      getJson(this.#store, sessionKeys.record(sid), SessionSchema),
      this.#store.get(sessionKeys.revoked(sid)),
    ]);
    const now = this.#now();
    if (!session || revoked === ENDED || now >= session.absoluteEnd || now - session.lastSeen >= session.idleMs)
      return null;
    return session;
  }

  /**
   * Revokes ids (a token chain's id, or one token's `jti`) under a session: its tokens carrying one of them are
   * refused from the next verification on. The session itself goes on.
   */
  async revokeIn(sid: string, ids: readonly string[]): Promise<void> {
    const key = sessionKeys.revoked(sid);
    await this.#locked(key, async () => {
      const current = await this.#store.get(key);
      if (current === ENDED) return;
      const set = new Set(current ? current.split(" ") : []);
      for (const id of ids) set.add(id);
      const session = await getJson(this.#store, sessionKeys.record(sid), SessionSchema);
      const until = (session?.absoluteEnd ?? this.#now() + this.#absoluteMs) - this.#now() + REVOCATION_SLACK_MS;
      await this.#store.set(key, [...set].join(" "), { ttlMs: Math.max(1_000, until) });
    });
  }

  async #write(session: Session): Promise<void> {
    const ttlMs = Math.min(session.absoluteEnd, session.lastSeen + session.idleMs) - this.#now();
    if (ttlMs > 0) await setJson(this.#store, sessionKeys.record(session.sid), session, { ttlMs });
  }

  /** Read-modify-write of a person's index under a store lock (two sign-ins at once must both be listed). */
  async #updateIndex(
    personId: string,
    change: (list: { sid: string; absoluteEnd: number }[]) => { sid: string; absoluteEnd: number }[],
  ): Promise<void> {
    const key = sessionKeys.person(personId);
    await this.#locked(key, async () => {
      const now = this.#now();
      const current = (await getJson(this.#store, key, PersonIndexSchema)) ?? [];
      const next = change(current.filter((e) => e.absoluteEnd > now));
      if (next.length === 0) {
        await this.#store.delete(key);
        return;
      }
      const ttlMs = Math.max(...next.map((e) => e.absoluteEnd)) - now + REVOCATION_SLACK_MS;
      await setJson(this.#store, key, next, { ttlMs });
    });
  }

  /** Runs `fn` holding the store lock of `key`; after ~2 s of waiting it runs anyway rather than lose the change. */
  async #locked(key: string, fn: () => Promise<void>): Promise<void> {
    let lock = await this.#store.acquireLock(`${key}:lock`, 5_000);
    for (let i = 0; !lock && i < 80; i++) {
      await new Promise((r) => setTimeout(r, 25));
      lock = await this.#store.acquireLock(`${key}:lock`, 5_000);
    }
    try {
      await fn();
    } finally {
      await lock?.release();
    }
  }
}
