import { createHash } from "node:crypto";
import type { Audit } from "../../audit/index.js";
import { DEFAULT_LOCKOUT, type LockoutConfig } from "../../config/index.js";
import { ArchwayError, isArchwayError } from "../../errors.js";
import type { Store } from "../../store/index.js";
import type { Identity } from "../identity.js";
import { OffboardedPeople } from "../offboarded.js";
import { type IdentitySource, isLookupSource, isPasswordSource, type PasswordSource } from "../source.js";
import { AttemptGuard, type LockoutRecord } from "./attempts.js";
import { foldUsername } from "./fold.js";
import { GuardMetrics, type UnlockVia } from "./metrics.js";

/** How long a learned username -> person link is kept without a sign-in (see `#remember`). */
const ALIAS_TTL_MS = 30 * 24 * 3600_000;
/** Links remembered in this process, so a login costs no extra store read for people seen before. */
const ALIAS_CACHE_SIZE = 10_000;
/** Longer folded usernames are keyed by their digest: a key never carries a megabyte someone typed. */
const MAX_NAME_IN_KEY = 200;

/** A refusal by a sign-in limit (429): the check did not run. `retryAfterSeconds` goes to `Retry-After`. */
export class TooManyAttempts extends ArchwayError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    const wait = retryAfterSeconds >= 120 ? `${Math.ceil(retryAfterSeconds / 60)} minutes` : `${retryAfterSeconds} s`;
    super("login_locked", `too many failed sign-ins; try again in ${wait}`, 429);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The seconds a refusal asks the client to wait, when `err` is one. */
export function retryAfterOf(err: unknown): number | undefined {
  return err instanceof TooManyAttempts ? err.retryAfterSeconds : undefined;
}

/** What an unlock cleared. `known`: some source (or a learned link) knows the person. */
export interface UnlockResult {
  person: string;
  subjects: string[];
  cleared: number;
  known: boolean;
}

/**
 * Every password sign-in goes through here (the /v3 facade, `/login`, the OAuth password grant): limits counted
 * before the password is checked (see {@link AttemptGuard}), one answer for an unknown user and a wrong
 * password, and an audit event for each attempt (never with the password).
 *
 * Limits are keyed by the username folded as the directory compares it (see {@link foldUsername}), so `ALICE`,
 * ` alice` and a fullwidth `ａlice` share one. Once a username has led to a person, it is linked to the person's
 * stable id (in the store, remembered per process) and the limits follow the person, whatever name they use.
 */
export class LoginGuard {
  readonly #store: Store;
  readonly #audit: Audit;
  readonly #attempts: AttemptGuard;
  readonly #aliases = new Map<string, string>();
  readonly #offboarded: OffboardedPeople;
  /** Counters for `/metrics` (register them with `metrics.register(registry)`). */
  readonly metrics = new GuardMetrics();

  constructor(opts: { store: Store; audit: Audit; limits?: LockoutConfig }) {
    this.#store = opts.store;
    this.#audit = opts.audit;
    this.#attempts = new AttemptGuard({ store: opts.store, limits: opts.limits ?? DEFAULT_LOCKOUT });
    this.#offboarded = new OffboardedPeople({ store: opts.store });
  }

  /** The attempt counter underneath, for other kinds of secret (a later second factor) to share. */
  get attempts(): AttemptGuard {
    return this.#attempts;
  }

  /**
   * Resolves the identity, or throws `ArchwayError`: `login_failed` (401) for any wrong pair, `login_locked`
   * ({@link TooManyAttempts}, 429) when a limit refuses the attempt, `directory_unavailable` (503) when the
   * source cannot tell.
   */
  async login(source: PasswordSource, username: string, password: string, clientIp: string): Promise<Identity> {
    const name = nameKey(source.id, foldUsername(username));
    const person = this.#aliases.get(name) ?? (await this.#store.get(`guard:alias:${name}`));
    // The name's own pair limit stays in force once the person is known: failures counted under the name before
    // the link was learned still count.
    const subjects: [string, ...string[]] = person !== null ? [`name:${name}`, `person:${person}`] : [`name:${name}`];
    const base = { actor: username, source: source.id, clientIp };
    const outcome = await this.#attempts
      .attempt({ kind: "password", subjects, address: clientIp }, () => source.login(username, password))
      .catch(async (err: unknown) => {
        this.metrics.countLogin(source.id, "error");
        await this.#audit({ type: "login.error", ...base, reason: isArchwayError(err) ? err.code : "internal_error" });
        throw err;
      });
    switch (outcome.kind) {
      case "refused":
        this.metrics.countRefusal("password", outcome.scope);
        this.metrics.countLogin(source.id, "refused");
        await this.#audit({
          type: "login.refused",
          ...base,
          scope: outcome.scope,
          retryAfterSeconds: outcome.retryAfterSeconds,
        });
        throw new TooManyAttempts(outcome.retryAfterSeconds);
      case "failed":
        this.metrics.countLogin(source.id, "failure");
        for (const crossed of outcome.crossed) {
          this.metrics.countLockout("password", crossed.scope);
          await this.#audit({ type: "login.locked", ...base, ...crossed });
        }
        await this.#audit({
          type: "login.failure",
          ...base,
          reason: password === "" ? "empty_password" : "invalid_credentials",
        });
        throw new ArchwayError("login_failed", "invalid username or password", 401);
      case "passed": {
        const identity = outcome.value;
        // Offboarded (the kill switch, or before the directory says so): the same answer as a wrong password.
        if (await this.#offboarded.get(identity.id)) {
          this.metrics.countLogin(source.id, "failure");
          await this.#audit({ type: "login.failure", ...base, identity: identity.id, reason: "offboarded" });
          throw new ArchwayError("login_failed", "invalid username or password", 401);
        }
        this.metrics.countLogin(source.id, "success");
        await Promise.all([
          this.#remember(name, identity.id),
          this.#audit({ type: "login.success", ...base, identity: identity.id }),
        ]);
        return identity;
      }
    }
  }

  /**
   * Clears every sign-in limit on a person: `person` is a username (folded, in every source), a stable identity
   * id, or a subject as {@link recent} lists it. Audited and counted; `actor` is who asked.
   */
  async unlock(
    person: string,
    opts: { sources: readonly IdentitySource[]; actor: string; via: UnlockVia },
  ): Promise<UnlockResult> {
    const subjects = new Set<string>();
    let known = false;
    if (/^(name|person):./.test(person)) {
      subjects.add(person);
      known = true;
      const linked = person.startsWith("name:") ? await this.#store.get(`guard:alias:${person.slice(5)}`) : null;
      if (linked !== null) subjects.add(`person:${linked}`);
    }
    for (const source of opts.sources) {
      if (person.startsWith(`${source.id}:`)) subjects.add(`person:${person}`);
      if (!isPasswordSource(source)) continue;
      const name = nameKey(source.id, foldUsername(person));
      subjects.add(`name:${name}`);
      const linked = await this.#store.get(`guard:alias:${name}`);
      if (linked !== null) {
        subjects.add(`person:${linked}`);
        known = true;
      }
      if (!isLookupSource(source)) continue;
      // A directory that cannot answer now only means the person's own spelling is all that is cleared.
      const found =
        (await source.lookup(person).catch(() => null)) ??
        (await source.lookup(foldUsername(person)).catch(() => null));
      if (found) {
        known = true;
        subjects.add(`person:${found.id}`);
        subjects.add(`name:${nameKey(source.id, foldUsername(found.username))}`);
      }
    }
    const cleared = await this.#attempts.unlock([...subjects]);
    const result: UnlockResult = { person, subjects: [...subjects], cleared, known: known || cleared > 0 };
    this.metrics.countUnlock(opts.via);
    await this.#audit({
      type: "login.unlocked",
      actor: opts.actor,
      person,
      via: opts.via,
      subjects: result.subjects,
      cleared,
    });
    return result;
  }

  /** Recent lockouts, newest first, for `/admin`. */
  async recent(limit?: number): Promise<LockoutRecord[]> {
    return this.#attempts.recent(limit);
  }

  /**
   * Links a folded username to the person it led to, in the store and in this process. Written again on the first
   * success in each process, so the link of anyone who signs in does not lapse.
   */
  async #remember(name: string, identityId: string): Promise<void> {
    if (this.#aliases.get(name) === identityId) return;
    if (this.#aliases.size >= ALIAS_CACHE_SIZE) {
      const oldest = this.#aliases.keys().next().value;
      if (oldest !== undefined) this.#aliases.delete(oldest);
    }
    this.#aliases.set(name, identityId);
    await this.#store.set(`guard:alias:${name}`, identityId, { ttlMs: ALIAS_TTL_MS });
  }
}

/** `<source>:<folded username>`, the username replaced by its digest when it is long. */
function nameKey(sourceId: string, folded: string): string {
  if (folded.length <= MAX_NAME_IN_KEY) return `${sourceId}:${folded}`;
  return `${sourceId}:sha256:${createHash("sha256").update(folded).digest("hex")}`;
}
