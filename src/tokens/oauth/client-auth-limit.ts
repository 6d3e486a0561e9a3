import type { ClientAuthLimits } from "../../config/index.js";
import type { Store } from "../../store/index.js";

/** Which limit refused a client authentication. */
export type ClientLimit = "client-address" | "address" | "client";

/** Who is authenticating: a client id (absent when no client has it) and the caller's address. */
export interface ClientAuthCaller {
  clientId?: string;
  clientIp: string;
}

/** A reserved failure: `settle(true)` gives it back (the secret was right or never checked). */
export interface Reservation {
  settle(passed: boolean): Promise<void>;
}

interface Counter {
  by: ClientLimit;
  key: string;
}

/**
 * Counts failed client authentications in the store (so every Archway process agrees), one fixed window per
 * counter: per client and address, per address, and per client over every address. A caller over a limit is
 * refused before its secret is looked at, even a right one (or the limit would tell a guesser when it hit). Past
 * the client-wide limit only addresses with a failure for that client in the window are refused: a wall for the
 * whole client would let anyone with a few addresses lock a service out, as the review did to people.
 */
export class ClientAuthLimiter {
  constructor(
    private readonly store: Store,
    private readonly limits: ClientAuthLimits,
  ) {}

  /** Seconds until a refused caller may try again, at most (the counter's window may have started earlier). */
  get retryAfterSeconds(): number {
    return this.limits.windowSeconds;
  }

  /** The limit `who` is over, if any; counts nothing. */
  async refused(who: ClientAuthCaller): Promise<ClientLimit | undefined> {
    const counters = this.#counters(who);
    const counts = await Promise.all(counters.map((c) => this.store.get(c.key)));
    return this.#over(
      counters,
      counts.map((n) => Number(n ?? 0)),
      0,
    );
  }

  /**
   * Counts one failure for `who` before the secret is checked, so that N parallel guesses can never check more
   * than the limit allows; resolves the limit it went over instead (and counts nothing) when there is no room.
   */
  async reserve(who: ClientAuthCaller): Promise<Reservation | ClientLimit> {
    const counters = this.#counters(who);
    const ttlMs = this.limits.windowSeconds * 1000;
    const counts = await Promise.all(counters.map((c) => this.store.increment(c.key, { ttlMs })));
    const refund = () =>
      Promise.all(counters.map((c) => this.store.increment(c.key, { ttlMs, by: -1 }))).then(() => {});
    // This attempt is included in the counts: over means strictly more than the limit.
    const over = this.#over(counters, counts, 1);
    if (over) {
      await refund();
      return over;
    }
    return { settle: (passed) => (passed ? refund() : Promise.resolve()) };
  }

  /** The first limit the counts break; `self` is how many of them are this attempt's own reservation. */
  #over(counters: readonly Counter[], counts: readonly number[], self: number): ClientLimit | undefined {
    const count = (by: ClientLimit) => counts[counters.findIndex((c) => c.by === by)] ?? 0;
    const pair = count("client-address");
    if (pair - self >= this.limits.perClientAddress) return "client-address";
    if (count("address") - self >= this.limits.perAddress) return "address";
    // Past the client-wide limit, an address that already failed for this client is refused; a fresh one may try.
    if (count("client") - self >= this.limits.perClient && pair - self > 0) return "client";
    return undefined;
  }

  /** The counters of a caller: an unknown client id has only its address counted (no keys for made-up ids). */
  #counters(who: ClientAuthCaller): Counter[] {
    const address: Counter = { by: "address", key: `oauth:client-fail:address:${who.clientIp}` };
    if (who.clientId === undefined) return [address];
    return [
      { by: "client-address", key: `oauth:client-fail:pair:${who.clientId}|${who.clientIp}` },
      address,
      { by: "client", key: `oauth:client-fail:client:${who.clientId}` },
    ];
  }
}
