import { createHmac, randomBytes } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { type Identity, IdentitySchema } from "../../identity/index.js";
import { getJson, type Store, setJson } from "../../store/index.js";
import { safeEqual } from "../safe-equal.js";

/** The signed-in person behind a browser session, as pages and the IdP read it. */
export interface WebSession {
  identity: Identity;
  /** Random id of this browser session (also what the CSRF token is bound to). */
  sessionId: string;
  /** When the person proved who they are (password or upstream SSO), seconds since the epoch. */
  authTime: number;
}

const StoredSessionSchema = z
  .object({
    identity: IdentitySchema,
    authTime: z.number().int(),
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
  /** Idle-free lifetime of a session. */
  ttlMs: number;
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
  readonly #o: Required<WebSessionOptions>;
  /** Cookie names; `__Host-` pins them to this origin, path `/`, Secure. */
  readonly sessionCookie: string;
  readonly loginCookie: string;

  constructor(opts: WebSessionOptions) {
    this.#o = { now: Date.now, ...opts };
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
    return { identity: stored.identity, sessionId, authTime: stored.authTime };
  }

  /**
   * Starts a new session for `identity` (always a fresh id: no session fixation) and sets its cookie. Any
   * session the browser had before is ended.
   */
  async start(c: Context, identity: Identity, upstream?: StoredSession["upstream"]): Promise<WebSession> {
    await this.end(c);
    const sessionId = randomBytes(32).toString("base64url");
    const authTime = Math.floor(this.#o.now() / 1000);
    const stored: StoredSession = { identity, authTime, ...(upstream ? { upstream } : {}) };
    await setJson(this.#o.store, STORE_PREFIX + sessionId, stored, { ttlMs: this.#o.ttlMs });
    setCookie(c, this.sessionCookie, this.#seal(sessionId), this.#cookieOptions(Math.floor(this.#o.ttlMs / 1000)));
    deleteCookie(c, this.loginCookie, this.#cookieOptions());
    return { identity, sessionId, authTime };
  }

  /** Ends this browser's session (store and cookie); returns upstream details for an SSO logout, if any. */
  async end(c: Context): Promise<StoredSession["upstream"] | undefined> {
    const sessionId = this.#unseal(getCookie(c, this.sessionCookie));
    if (!sessionId) return undefined;
    const stored = await getJson(this.#o.store, STORE_PREFIX + sessionId, StoredSessionSchema);
    await this.#o.store.delete(STORE_PREFIX + sessionId);
    deleteCookie(c, this.sessionCookie, this.#cookieOptions());
    return stored?.upstream;
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
