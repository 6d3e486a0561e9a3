import type { LockoutConfig } from "../../config/index.js";
import type { CounterChange, Store } from "../../store/index.js";
import { addressKey } from "./address.js";

/**
 * What is being guessed: a password, or a second-factor code (`otp`: a TOTP or recovery code). Each kind is counted
 * apart with the same limits, so wrong codes lock the (person, address) pair of the second step, not the password's.
 */
export type AttemptKind = "password" | "otp";

/** Every kind, for unlocking a person across all of them. */
export const ATTEMPT_KINDS: readonly AttemptKind[] = ["password", "otp"];

/** Which limit answered: the hard (username, address) pair, or the growing delays per username or per address. */
export type LimitScope = "user_address" | "user" | "address";

/**
 * Who is trying, from where. `subjects`: what the attempt names, most general first: a folded username, then the
 * person's stable id once the name is known to lead to one (see `LoginGuard`). Each has its own pair limit (so
 * failures counted under the name before the person was known still count); the last carries the delays.
 */
export interface AttemptRequest {
  kind: AttemptKind;
  subjects: readonly [string, ...string[]];
  /** The client address as the observing layer resolved it. */
  address: string;
}

/** A limit that was reached by a failure: the pair is now refused, or delays now apply to the user or address. */
export interface Crossing {
  scope: LimitScope;
  /** The subject whose pair or delays it is (absent for an address). */
  subject?: string;
  /** How long the pair stays refused, or the first delay. */
  retryAfterSeconds: number;
}

/** What an attempt came to. `refused`: the check never ran. */
export type AttemptOutcome<T> =
  | { kind: "refused"; scope: LimitScope; retryAfterSeconds: number }
  | { kind: "failed"; crossed: Crossing[] }
  | { kind: "passed"; value: T };

/** The capped stream of recent lockouts (pairs refused, users and addresses slowed), for unlock and `/admin`. */
export const LOCKOUT_STREAM = "guard:lockouts";
const LOCKOUT_STREAM_LENGTH = 10_000;
/** Background tries of a reservation the store could not take back (1, 2, 4, then every 8 s: about a minute). */
const RELEASE_RETRIES = 9;

/** One entry of {@link LOCKOUT_STREAM}. */
export interface LockoutRecord {
  kind: AttemptKind;
  scope: LimitScope;
  subject?: string;
  /** Every subject the attempt named (a name and the person it leads to): an unlock of one clears them all. */
  subjects?: string[];
  address?: string;
  at: string;
}

/**
 * Counts attempts atomically before they are checked, in the store every Archway process shares. Each attempt
 * first reserves a unit on its counters (one store call, one script on Redis): the (subject, address) pair of each
 * subject, the subject, and the address. A reservation past a limit is given back and refused without the check running, so
 * however many attempts arrive at once, at most `maxFailures` failures per pair are ever checked. A success
 * gives its reservation back (one call again); a failure keeps it for the window.
 *
 * Past the pair's limit only that pair is refused, until its window ends. Past the free failures of a subject
 * or an address, attempts are paced: one may pass per delay, the delay doubling with each failure up to a small
 * maximum (a gate key set only if absent, so concurrent attempts get one pass between them).
 */
export class AttemptGuard {
  readonly #store: Store;
  readonly #limits: LockoutConfig;

  constructor(opts: { store: Store; limits: LockoutConfig }) {
    this.#store = opts.store;
    this.#limits = opts.limits;
  }

  /** The limits in force. */
  get limits(): LockoutConfig {
    return this.#limits;
  }

  /**
   * Runs `check` if the limits allow it. `check` resolves the value on success and null on a failure; when it
   * throws (the source cannot tell), the reservation is given back and the error passes through.
   */
  async attempt<T>(request: AttemptRequest, check: () => Promise<T | null>): Promise<AttemptOutcome<T>> {
    const { perUserAndAddress: pair, perUser: user, perAddress: address } = this.#limits;
    const keys = this.#keys(request);
    const [userCount = 0, addressCount = 0, ...pairCounts] = await this.#reserve(keys);
    let refusal: { scope: LimitScope; retryAfterSeconds: number } | undefined;
    let value: T | null = null;
    try {
      refusal =
        Math.max(...pairCounts) > pair.maxFailures
          ? { scope: "user_address" as const, retryAfterSeconds: pair.windowSeconds }
          : // Under the free failures (nearly every sign-in) no gate is looked at: no further store call.
            userCount <= user.freeFailures && addressCount <= address.freeFailures
            ? undefined
            : ((await this.#pace(`${keys.user}:gate`, userCount, user, "user")) ??
              (await this.#pace(`${keys.address}:gate`, addressCount, address, "address")));
      if (!refusal) value = await check();
    } catch (err) {
      // The source (or the store) could not tell: not a failure, so the reservation goes back.
      await this.#release(keys);
      throw err;
    }
    if (refusal) {
      await this.#release(keys);
      return { kind: "refused", ...refusal };
    }
    if (value !== null) {
      await this.#release(keys);
      return { kind: "passed", value };
    }
    const crossed: Crossing[] = [];
    request.subjects.forEach((subject, i) => {
      if (pairCounts[i] === pair.maxFailures)
        crossed.push({ scope: "user_address", subject, retryAfterSeconds: pair.windowSeconds });
    });
    const last = request.subjects[request.subjects.length - 1];
    if (userCount === user.freeFailures)
      crossed.push({ scope: "user", subject: last, retryAfterSeconds: delaySeconds(user, 1) });
    if (addressCount === address.freeFailures)
      crossed.push({ scope: "address", retryAfterSeconds: delaySeconds(address, 1) });
    if (crossed.length > 0) {
      const at = new Date().toISOString();
      await Promise.all(
        crossed.map((c) => {
          const record: LockoutRecord = {
            kind: request.kind,
            scope: c.scope,
            ...(c.subject !== undefined ? { subject: c.subject, subjects: [...request.subjects] } : {}),
            ...(c.scope !== "user" ? { address: addressKey(request.address, this.#limits.ipv6PrefixLength) } : {}),
            at,
          };
          return this.#store.append(LOCKOUT_STREAM, { ...record }, { maxLength: LOCKOUT_STREAM_LENGTH });
        }),
      );
    }
    return { kind: "failed", crossed };
  }

  /**
   * Clears every limit on `subjects` in every attempt kind: their counters and delays, and each (subject, address)
   * pair recorded in the lockout stream. Resolves how many keys held state.
   */
  async unlock(subjects: readonly string[]): Promise<number> {
    const wanted = new Set(subjects);
    const recent = await this.#store.read(LOCKOUT_STREAM, { latest: true, limit: LOCKOUT_STREAM_LENGTH });
    // A name and the person it led to were limited together: unlocking either clears both.
    for (const { data } of recent) {
      const named = Array.isArray(data.subjects) ? data.subjects.map(String) : [];
      if (named.some((s) => wanted.has(s))) for (const s of named) wanted.add(s);
    }
    const keys = new Set<string>();
    for (const kind of ATTEMPT_KINDS) {
      for (const subject of wanted) {
        const user = this.#userKey(kind, subject);
        keys.add(user);
        keys.add(`${user}:gate`);
      }
      for (const { data } of recent) {
        if (data.kind === kind && typeof data.subject === "string" && wanted.has(data.subject) && data.address)
          keys.add(this.#pairKey(kind, data.subject, String(data.address)));
      }
    }
    const deleted = await Promise.all([...keys].map((k) => this.#store.delete(k)));
    return deleted.filter(Boolean).length;
  }

  /** Recent lockouts, newest first (from the capped stream; older ones may be gone). */
  async recent(limit = 200): Promise<LockoutRecord[]> {
    const entries = await this.#store.read(LOCKOUT_STREAM, { latest: true, limit });
    return entries.map((e) => e.data as unknown as LockoutRecord).reverse();
  }

  /** Lets one attempt through per delay once `count` is past the free failures; the refusal otherwise. */
  async #pace(
    gate: string,
    count: number,
    limit: LockoutConfig["perUser"],
    scope: "user" | "address",
  ): Promise<{ scope: LimitScope; retryAfterSeconds: number } | undefined> {
    if (count <= limit.freeFailures) return undefined;
    const wait = delaySeconds(limit, count - limit.freeFailures);
    if (await this.#store.setIfAbsent(gate, "1", { ttlMs: wait * 1000 })) return undefined;
    return { scope, retryAfterSeconds: Math.ceil(wait) };
  }

  /**
   * Reserves a unit on every counter. While a pair's count is past its limit and `inFlightWaitMs` allows, the unit
   * is given back and asked again after a growing pause: the count may be made of attempts still being checked,
   * and each success among them gives its unit back. Failures that settled stay, so this only delays a refusal.
   */
  async #reserve(keys: Keys): Promise<number[]> {
    const { maxFailures, inFlightWaitMs } = this.#limits.perUserAndAddress;
    const until = Date.now() + inFlightWaitMs;
    for (let pause = 20; ; pause *= 2) {
      const counts = await this.#store.addToCounters(this.#changes(keys, 1));
      const pairFull = counts.slice(2).some((count) => count > maxFailures);
      if (!pairFull || Date.now() + pause > until) return counts;
      await this.#release(keys);
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Gives a reservation back. A store that cannot take it now (an outage, a failover) gets it again in the
   * background for about a minute: attempts that were never judged must not pile up as failures and pace or lock
   * everyone out once the store is back.
   */
  async #release(keys: Keys): Promise<void> {
    await this.#giveBack(keys).catch(() => this.#releaseLater(keys, 1));
  }

  #releaseLater(keys: Keys, attempt: number): void {
    if (attempt > RELEASE_RETRIES) return;
    const retry = setTimeout(
      () => void this.#giveBack(keys).catch(() => this.#releaseLater(keys, attempt + 1)),
      Math.min(1000 * 2 ** (attempt - 1), 8000),
    );
    retry.unref();
  }

  async #giveBack(keys: Keys): Promise<void> {
    await this.#store.addToCounters(this.#changes(keys, -1));
  }

  /** One change per counter: the subject's, the address's, then each pair's (the order `attempt` reads back). */
  #changes(keys: Keys, by: 1 | -1): CounterChange[] {
    const { perUserAndAddress: pair, perUser: user, perAddress: address } = this.#limits;
    return [
      { key: keys.user, by, ttlMs: user.windowSeconds * 1000 },
      { key: keys.address, by, ttlMs: address.windowSeconds * 1000 },
      ...keys.pairs.map((key) => ({ key, by, ttlMs: pair.windowSeconds * 1000 })),
    ];
  }

  #keys(request: AttemptRequest): Keys {
    const address = addressKey(request.address, this.#limits.ipv6PrefixLength);
    return {
      pairs: request.subjects.map((subject) => this.#pairKey(request.kind, subject, address)),
      user: this.#userKey(request.kind, request.subjects[request.subjects.length - 1] as string),
      address: `guard:${request.kind}:address:${address}`,
    };
  }

  #pairKey(kind: AttemptKind, subject: string, address: string): string {
    return `guard:${kind}:pair:${address}|${subject}`;
  }

  #userKey(kind: AttemptKind, subject: string): string {
    return `guard:${kind}:user:${subject}`;
  }
}

interface Keys {
  pairs: string[];
  user: string;
  address: string;
}

/** The wait before the next attempt, `n` failures past the free ones: base x 2^(n-1), at most the maximum. */
export function delaySeconds(limit: LockoutConfig["perUser"], n: number): number {
  return Math.min(limit.maxDelaySeconds, limit.baseDelaySeconds * 2 ** Math.min(Math.max(0, n - 1), 30));
}
