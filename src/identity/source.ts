import type { Identity } from "./identity.js";
import type { SourceType } from "./schemas.js";

/**
 * Every source: something that can say whether it is reachable. Each kind of capability below is a small
 * separate interface (as Dex's connectors are), and a source implements the ones it can.
 */
export interface IdentitySource {
  readonly id: string;
  readonly type: SourceType;
  /** Resolves when the source can answer now; rejects with a reason otherwise (used by `/readyz`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Checks a username and password. */
export interface PasswordSource extends IdentitySource {
  /**
   * Resolves the identity when the pair is right, `null` when it is wrong, the user is unknown or disabled
   * (callers must not be able to tell which). Throws `ArchwayError("directory_unavailable", ..., 503)` when it
   * cannot tell.
   */
  login(username: string, password: string): Promise<Identity | null>;
}

/** Looks a person up by username without a password (sync, operators' `identity lookup`). */
export interface LookupSource extends IdentitySource {
  lookup(username: string): Promise<Identity | null>;
}

/** Lists everyone, page by page, for sync. */
export interface EnumerableSource extends IdentitySource {
  /**
   * Yields every identity; with `changedSince` (a mark from {@link EnumerableSource.mark}) only those changed
   * after it. Pages internally with `pageSize`.
   */
  list(opts?: { pageSize?: number; changedSince?: string }): AsyncIterable<Identity>;
  /** A mark for "now" in the source's own clock, to pass as `changedSince` next time. */
  mark(): Promise<string>;
}

/** One account as a cheap listing sees it: its stable id, its username, and whether the directory disabled it. */
export interface AccountState {
  /** The identity id (`<source>:<immutable id>`), as {@link Identity.id}. */
  id: string;
  username: string;
  /** Disabled or locked in the source (AD's ACCOUNTDISABLE bit, ppolicy's `pwdAccountLockedTime`, ...). */
  disabled: boolean;
}

/**
 * Lists every account, enabled or not, with ids only (no groups, keys or attributes), cheap enough to run every
 * minute: diffed against the previous listing, it tells who left (no longer listed) or was disabled, which a
 * changed-since enumeration cannot.
 */
export interface AccountListSource extends IdentitySource {
  accounts(opts?: { pageSize?: number }): AsyncIterable<AccountState>;
  /**
   * For sources listed from a file each process reads (static): when that file last changed. A process whose
   * listing is older than one another process already used skips its look (its reload is still to come).
   */
  readonly generation?: number;
}

/** A departure, a disable or an enable again, as the source saw it happen. */
export interface AccountEvent {
  kind: "departed" | "disabled" | "enabled";
  /** The account as last known (its username may be empty for someone the watch never saw). */
  account: AccountState;
}

/** What a watch tells: the events, in the order they happened, and what went wrong (it keeps trying). */
export interface AccountWatchHandler {
  event(e: AccountEvent): void;
  error?(message: string): void;
  /** The watch sees the directory's current content and hears of changes from now on. */
  ready?(message: string): void;
}

/** A running watch. */
export interface AccountWatch {
  stop(): Promise<void>;
}

/**
 * Hears of departures and disables as they happen (LDAP content synchronisation), in seconds rather than at the
 * next listing. The listing stays the backstop: a watch reports only what it sees while it runs.
 */
export interface AccountWatchSource extends IdentitySource {
  /**
   * Starts watching; resolves `{ unavailable }` (with the reason) when this source will not watch (the server
   * lacks the support, or it is turned off). Rejects when the source cannot be asked now (try again later).
   */
  watchAccounts(handler: AccountWatchHandler): Promise<AccountWatch | { unavailable: string }>;
}

/** State that must survive the round trip to an upstream login page (kept server-side, keyed by `state`). */
export interface RedirectStart {
  /** Where to send the browser. */
  url: string;
  /** Opaque value the caller stores and hands back to `completeLogin` (contains state, nonce, PKCE verifier). */
  pending: string;
  state: string;
}

/** Tokens an upstream issued, kept so the session can be refreshed or logged out upstream. */
export interface UpstreamTokens {
  refreshToken?: string;
  idToken?: string;
  expiresAt?: number;
  /** The upstream's session id (`sid` of the ID token), which its back-channel logout tokens name. */
  sid?: string;
}

/**
 * How the upstream authenticated the person, as the session records it: `amr` from `upstreamAmr` (`fed`, the
 * upstream's values, `mfa` when they or a strong `acr` say so) and the upstream's `acr` as reported.
 */
export interface UpstreamAuth {
  amr: string[];
  acr?: string;
}

/** Sends the person to an upstream login page and completes the login on the callback. */
export interface RedirectSource extends IdentitySource {
  readonly displayName: string;
  /**
   * Origins the sign-in and sign-out forms are sent or redirected to (the upstream's login and logout pages): the
   * web pages' CSP `form-action` lets them through.
   */
  readonly formOrigins: readonly string[];
  beginLogin(opts: { redirectUri: string; prompt?: string }): Promise<RedirectStart>;
  /** Completes the login from the full callback URL; throws `ArchwayError` with code `login_failed` when refused. */
  completeLogin(
    callbackUrl: URL,
    pending: string,
  ): Promise<{ identity: Identity; tokens: UpstreamTokens; auth?: UpstreamAuth }>;
  /** Refreshes an upstream session; resolves null when the upstream refused (the person must log in again). */
  refresh(tokens: UpstreamTokens): Promise<{ identity: Identity; tokens: UpstreamTokens } | null>;
  /** The upstream's RP-initiated logout URL, if it has one. */
  logoutUrl(opts: { idToken?: string; postLogoutRedirectUri: string }): Promise<string | null>;
}

export function isPasswordSource(s: IdentitySource): s is PasswordSource {
  return typeof (s as Partial<PasswordSource>).login === "function";
}
export function isLookupSource(s: IdentitySource): s is LookupSource {
  return typeof (s as Partial<LookupSource>).lookup === "function";
}
export function isEnumerableSource(s: IdentitySource): s is EnumerableSource {
  return typeof (s as Partial<EnumerableSource>).list === "function";
}
export function isAccountListSource(s: IdentitySource): s is AccountListSource {
  return typeof (s as Partial<AccountListSource>).accounts === "function";
}
export function isRedirectSource(s: IdentitySource): s is RedirectSource {
  return typeof (s as Partial<RedirectSource>).beginLogin === "function";
}
export function isAccountWatchSource(s: IdentitySource): s is AccountWatchSource {
  return typeof (s as Partial<AccountWatchSource>).watchAccounts === "function";
}
