import { createHmac, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { type Identity, IdentitySchema } from "../../identity/index.js";
import { getJson, type Store, setJson } from "../../store/index.js";
import type { IdentitySessions } from "../../tokens/index.js";
import { safeEqual } from "../safe-equal.js";

/** The signed-in person behind a browser session, as pages and the IdP read it. */
export interface WebSession {
  identity: Identity;
  /** Random id of this browser session (also what the CSRF token is bound to). */
  sessionId: string;
  /** When the person proved who they are (password or upstream SSO), seconds since the epoch. */
  authTime: number;
  /**
   * The login session this browser session belongs to (what tokens and grants made here hang off) and its absolute
   * end, milliseconds since the epoch. Absent only where no login sessions are wired (some unit tests).
   */
  sid?: string;
  sessionEnd?: number;
  /** How that login session was authenticated (RFC 8176 values); grants made here copy it. */
  amr?: string[];
}

const StoredSessionSchema = z
  .object({
    identity: IdentitySchema,
    authTime: z.number().int(),
    /** The login session (see {@link IdentitySessions}). */
    sid: z.string().optional(),
    /** Upstream SSO tokens, kept for RP-initiated logout. */
    upstream: z.object({ source: z.string(), idToken: z.string().optional() }).strict().optional(),
  })
  .strict();
type StoredSession = z.infer<typeof StoredSessionSchema>;

/** How {@link WebSessions} is built. */
export interface WebSessionOptions {
  store: Store;
  /** Key for cookie MACs and CSRF tokens (`secrets.sessionKey`). */
  key: string;
  /** Lifetime of a browser session (never beyond its login session's absolute end). */
  ttlMs: number;
  /**
   * Login sessions: each browser session belongs to one, which signing out ends (and with it every token and grant
   * made under it). Without them a browser session stands alone.
   */
  sessions?: IdentitySessions;
  /**
   * Whether cookies carry `Secure` (and the `__Host-` name prefix). True unless the public URL is plain http on a
   * non-loopback host, where a browser would drop such cookies.
   */
  secure: boolean;
  now?: () => number;
}

const STORE_PREFIX = "web:session:";

/**
 * Browser sessions: a random id in the store (so every Archway process sees it and sign-out is immediate), sent
 * as an HttpOnly, SameSite=Lax cookie whose value carries a MAC, so forged ids are refused without a store read.
 * CSRF tokens are MACs of the session id: they need no storage and a token from another session never fits.
 * Before sign-in, a separate short-lived "login nonce" cookie plays the session's part for the login forms.
 */
export class WebSessions {
  readonly #o: Required<Omit<WebSessionOptions, "sessions">> & Pick<WebSessionOptions, "sessions">;
  /** Cookie names; `__Host-` pins them to this origin, path `/`, Secure. */
  readonly sessionCookie: string;
  readonly loginCookie: string;
  /** Whether cookies carry `Secure` (see {@link WebSessionOptions.secure}). */
  readonly secure: boolean;

  constructor(opts: WebSessionOptions) {
    this.#o = { now: Date.now, ...opts };
    this.secure = opts.secure;
    const prefix = opts.secure ? "__Host-" : "";
    this.sessionCookie = `${prefix}archway_session`;
    this.loginCookie = `${prefix}archway_login`;
  }

  /** The signed-in person of this request, or undefined (no cookie, bad MAC, ended or expired session). */
  async read(c: Context): Promise<WebSession | undefined> {
    const sessionId = this.#unseal(getCookie(c, this.sessionCookie));
    if (!sessionId) return undefined;
    const stored = await getJson(this.#o.store, STORE_PREFIX + sessionId, StoredSessionSchema);
    if (!stored) return undefined;
    if (!stored.sid || !this.#o.sessions) return { identity: stored.identity, sessionId, authTime: stored.authTime };
    // Read from the store, not a local copy: an end (sign-out elsewhere, an administrator) shows at once.
    const login = await this.#o.sessions.alive(stored.sid);
    if (!login) {
      await this.#o.store.delete(STORE_PREFIX + sessionId);
      return undefined;
    }
    return {
      identity: stored.identity,
      sessionId,
      authTime: stored.authTime,
      sid: login.sid,
      sessionEnd: login.absoluteEnd,
      amr: login.amr,
    };
  }

  /**
   * Starts a new browser session for `identity` (always a fresh id: no session fixation) and sets its cookie. The
   * same person signing in again (`prompt=login`, `max_age`) keeps their login session, with a new `authTime`; any
   * other session the browser had is ended only now, once the new sign-in has succeeded. `opts.amr` says how the
   * person signed in (RFC 8176 values; `pwd`, or `sso` with `upstream`, when absent).
   */
  async start(
    c: Context,
    identity: Identity,
    upstream?: StoredSession["upstream"],
    /** How the person signed in (RFC 8176 `amr`, an upstream's `acr`); default `pwd`, or `fed` after an upstream. */
    auth?: { amr: string[]; acr?: string },
  ): Promise<WebSession> {
    const previous = await this.read(c);
    let login =
      previous?.sid && previous.identity.id === identity.id ? await this.#o.sessions?.alive(previous.sid) : null;
    if (previous) await this.#forget(c, previous.sessionId);
    if (previous?.sid && !login) await this.#o.sessions?.end(previous.sid, "another sign-in on this browser");
    login ??= await this.#o.sessions?.create(identity, {
      amr: auth?.amr ?? (upstream ? ["fed"] : ["pwd"]),
      ...(auth?.acr !== undefined ? { acr: auth.acr } : {}),
      absoluteMs: this.#o.ttlMs,
    });
    const sessionId = randomBytes(32).toString("base64url");
    const now = this.#o.now();
    const authTime = Math.floor(now / 1000);
    const ttlMs = login ? Math.min(this.#o.ttlMs, login.absoluteEnd - now) : this.#o.ttlMs;
    const stored: StoredSession = {
      identity,
      authTime,
      ...(login ? { sid: login.sid } : {}),
      ...(upstream ? { upstream } : {}),
    };
    await setJson(this.#o.store, STORE_PREFIX + sessionId, stored, { ttlMs });
    setCookie(c, this.sessionCookie, this.#seal(sessionId), this.#cookieOptions(Math.floor(ttlMs / 1000)));
    deleteCookie(c, this.loginCookie, this.#cookieOptions());
    return {
      identity,
      sessionId,
      authTime,
      ...(login ? { sid: login.sid, sessionEnd: login.absoluteEnd, amr: login.amr } : {}),
    };
  }

  /**
   * Signs this browser out: its session (store and cookie) and the login session it belongs to, with every token
   * and grant made under it (offline grants excepted). Returns upstream details for an SSO logout, if any.
   */
  async end(c: Context, reason = "signed out"): Promise<StoredSession["upstream"] | undefined> {
    const sessionId = this.#unseal(getCookie(c, this.sessionCookie));
    if (!sessionId) return undefined;
    const stored = await getJson(this.#o.store, STORE_PREFIX + sessionId, StoredSessionSchema);
    await this.#forget(c, sessionId);
    if (stored?.sid) await this.#o.sessions?.end(stored.sid, reason);
    return stored?.upstream;
  }

  /** Drops the browser session (store and cookie) and leaves its login session alone. */
  async #forget(c: Context, sessionId: string): Promise<void> {
    await this.#o.store.delete(STORE_PREFIX + sessionId);
    deleteCookie(c, this.sessionCookie, this.#cookieOptions());
  }

  /** The CSRF token forms of this session carry. */
  csrfToken(session: Pick<WebSession, "sessionId">): string {
    return this.#mac(`csrf|${session.sessionId}`);
  }

  /** True when `token` is this session's CSRF token. */
  checkCsrf(session: Pick<WebSession, "sessionId">, token: string | undefined): boolean {
    return token !== undefined && safeEqual(token, this.csrfToken(session));
  }

  /**
   * The CSRF token for forms shown before sign-in (login, OIDC start), bound to a login-nonce cookie that this
   * call sets when the browser has none yet. The nonce also binds an upstream SSO round trip to this browser.
   */
  loginCsrfToken(c: Context): string {
    let nonce = this.#unseal(getCookie(c, this.loginCookie));
    if (!nonce) {
      nonce = randomBytes(24).toString("base64url");
      setCookie(c, this.loginCookie, this.#seal(nonce), this.#cookieOptions(30 * 60));
    }
    return this.#mac(`login|${nonce}`);
  }

  /** True when `token` matches the login-nonce cookie of this browser. */
  checkLoginCsrf(c: Context, token: string | undefined): boolean {
    const nonce = this.#unseal(getCookie(c, this.loginCookie));
    return nonce !== undefined && token !== undefined && safeEqual(token, this.#mac(`login|${nonce}`));
  }

  /** The login nonce of this browser (set by {@link loginCsrfToken}), for binding an SSO round trip. */
  loginNonce(c: Context): string | undefined {
    return this.#unseal(getCookie(c, this.loginCookie));
  }

  #cookieOptions(maxAge?: number) {
    // Lax, not Strict: the person comes back from an upstream SSO through a top-level redirect and must arrive
    // signed in; cross-site POSTs are refused by SameSite=Lax and by the CSRF token.
    return {
      path: "/",
      httpOnly: true,
      sameSite: "Lax",
      secure: this.#o.secure,
      ...(maxAge !== undefined ? { maxAge } : {}),
    } as const;
  }

  #mac(value: string): string {
    return createHmac("sha256", this.#o.key).update(value).digest("base64url");
  }

  #seal(value: string): string {
    return `${value}.${this.#mac(`cookie|${value}`)}`;
  }

  #unseal(raw: string | undefined): string | undefined {
    if (!raw) return undefined;
    const dot = raw.lastIndexOf(".");
    if (dot <= 0) return undefined;
    const value = raw.slice(0, dot);
    return safeEqual(raw.slice(dot + 1), this.#mac(`cookie|${value}`)) ? value : undefined;
  }
}

/**
 * The signed-in person of a browser request, or undefined. The IdP's authorize flow and the `/device` page call
 * this; when it is undefined they redirect to `/login?return_to=<their path>`.
 */
export function readWebSession(c: Context, sessions: WebSessions): Promise<WebSession | undefined> {
  return sessions.read(c);
}

/**
 * `return_to` made safe: only a same-origin relative path (one leading `/`, no `//` in the path, no backslash or
 * control character anywhere), else `/`. Keeps the login page from being an open redirect. A `//` inside the query
 * (`/authorize?redirect_uri=https://...`) is allowed: it cannot change where the browser goes.
 */
export function safeReturnTo(value: string | undefined | null): string {
  if (!value?.startsWith("/")) return "/";
  const path = value.split(/[?#]/, 1)[0] ?? "";
  if (path.includes("//") || value.includes("\\") || hasControlCharacter(value)) return "/";
  // Belt and braces: whatever the browser would resolve it to must stay on this origin.
  const base = "http://archway.invalid";
  return new URL(value, base).origin === base ? value : "/";
}

function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
