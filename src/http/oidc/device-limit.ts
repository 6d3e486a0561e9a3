import type { Store } from "../../store/index.js";

/** Failed user-code lookups allowed per person and per client address within one fixed window. */
export interface DeviceCodeLimits {
  perPerson: number;
  perAddress: number;
  windowMs: number;
}

/**
 * User codes are 8 letters from a 20-letter alphabet (20^8, about 2.6e10 codes) and live 10 minutes, so guessing
 * only works at volume. 10 misses per person in 15 minutes is plenty for someone mistyping a code, and keeps one
 * account to under a thousand guesses a day. The limit is per person rather than per browser session because
 * signing in again is cheap and would otherwise reset it. 50 per address (as the login guard allows) because many
 * people can share one address (an office NAT, or a proxy missing from `trustedProxies`), and one of them must not
 * be able to block the device flow for everyone else there; the address limit is what stops one attacker cycling
 * through several accounts.
 */
export const DEVICE_CODE_LIMITS: DeviceCodeLimits = { perPerson: 10, perAddress: 50, windowMs: 15 * 60_000 };

/** Who is looking a code up: the signed-in person (identity id) and the client address. */
export interface DeviceLookupCaller {
  personId: string;
  clientIp: string;
}

/** What a limited lookup found; `limited` names the limit that refused it. */
export type LimitedLookup<T> = { limited: false; found: T | null } | { limited: true; by: "person" | "address" };

/**
 * Counts failed `/device` user-code lookups in the store (so every Archway process agrees) with a fixed window per
 * counter: past a limit, every lookup is refused until the window ends, even one with a valid code. Successful
 * lookups do not count.
 */
export class DeviceCodeLimiter {
  constructor(
    private readonly store: Store,
    private readonly limits: DeviceCodeLimits = DEVICE_CODE_LIMITS,
  ) {}

  /** Minutes until a refused caller may try again, at most (the counter's window may have started earlier). */
  get retryMinutes(): number {
    return Math.ceil(this.limits.windowMs / 60_000);
  }

  /** Runs `find` unless `who` is over a limit; a null result counts as one miss against both counters. */
  async lookup<T>(who: DeviceLookupCaller, find: () => Promise<T | null>): Promise<LimitedLookup<T>> {
    const counters = [
      { by: "person", key: `oauth:device-miss:person:${who.personId}`, max: this.limits.perPerson },
      { by: "address", key: `oauth:device-miss:address:${who.clientIp}`, max: this.limits.perAddress },
    ] as const;
    // A caller already over a limit is refused without touching the counters: their further tries must not use
    // up the budget of the other people at the same address.
    for (const c of counters) {
      if (Number((await this.store.get(c.key)) ?? 0) >= c.max) return { limited: true, by: c.by };
    }
    // The miss is counted before the lookup, not after: parallel requests that all passed the check above each get
    // their own count here, so a burst cannot try more codes than the limit allows.
    const counts = await Promise.all(counters.map((c) => this.store.increment(c.key, { ttlMs: this.limits.windowMs })));
    const over = counters.find((c, i) => (counts[i] ?? 0) > c.max);
    if (over) {
      await this.#refund(counters);
      return { limited: true, by: over.by };
    }
    let found: T | null;
    try {
      found = await find();
    } catch (err) {
      // A lookup that could not run is no miss.
      await this.#refund(counters).catch(() => undefined);
      throw err;
    }
    if (found !== null) await this.#refund(counters);
    return { limited: false, found };
  }

  async #refund(counters: readonly { key: string }[]): Promise<void> {
    await Promise.all(counters.map((c) => this.store.increment(c.key, { ttlMs: this.limits.windowMs, by: -1 })));
  }
}

/** Device flows one client address may start within one fixed window. */
export interface DeviceStartLimits {
  perAddress: number;
  windowMs: number;
}

/**
 * Every start stores a pending request for the code's lifetime, and a public client needs no secret to ask, so
 * starts are limited per client address: 20 a minute is far beyond a person at a terminal (or a few dozen behind
 * one NAT), and bounds what one address can make the store hold.
 */
export const DEVICE_START_LIMITS: DeviceStartLimits = { perAddress: 20, windowMs: 60_000 };

/** Counts `POST /oauth2/device_authorization` starts per client address in the store (shared by every process). */
export class DeviceStartLimiter {
  constructor(
    private readonly store: Store,
    private readonly limits: DeviceStartLimits = DEVICE_START_LIMITS,
  ) {}

  /** Seconds until a refused address may start again, at most. */
  get retrySeconds(): number {
    return Math.ceil(this.limits.windowMs / 1000);
  }

  /** Counts one start from `clientIp`; false when the address is over its limit for the current window. */
  async allow(clientIp: string): Promise<boolean> {
    const count = await this.store.increment(`oauth:device-start:address:${clientIp}`, { ttlMs: this.limits.windowMs });
    return count <= this.limits.perAddress;
  }
}
