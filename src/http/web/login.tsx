import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../errors.js";
import { retryAfterOf } from "../../identity/index.js";
import { clientIp } from "../env.js";
import type { WebDeps } from "./deps.js";
import { CsrfField, Layout, Notice, renderPage } from "./layout.js";
import { secondStepPage } from "./mfa-login.js";
import { PasskeyScript, PasskeySignInCard } from "./passkeys/index.js";
import { parseFields, type WebContext, type WebEnv } from "./security.js";
import { safeReturnTo } from "./session.js";

const PasswordForm = z.object({
  csrf: z.string().optional(),
  source: z.string().min(1).max(100),
  username: z.string().trim().min(1, "enter your username").max(256),
  password: z.string().min(1, "enter your password").max(1024),
  return_to: z.string().max(4096).optional(),
});

/** Messages that never say whether the username exists. */
const MESSAGES: Record<string, string> = {
  login_failed: "That username and password did not match. Check both and try again.",
  login_locked: "Too many failed attempts. Wait a little and try again.",
  directory_unavailable: "The directory cannot be reached right now. Try again in a moment.",
  csrf_failed: "The sign-in form expired. Please try again.",
  sso_failed: "Single sign-on did not complete. Please try again.",
  mfa_expired: "The sign-in took too long or did not come from this browser. Please sign in again.",
  passkey_failed: "That passkey was not accepted. Try again, or sign in with your password.",
  signed_out: "You are signed out.",
};

/** `/login` (a password form per password source, a button per upstream SSO, see sso.tsx), its post, `/logout`. */
export function loginRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();

  const page = async (
    c: WebContext,
    opts: { returnTo: string; error?: string; info?: string; username?: string; status?: 200 | 401 | 403 | 429 | 503 },
  ) => {
    const csrf = deps.sessions.loginCsrfToken(c);
    const status = opts.status ?? (opts.error === "login_locked" ? 429 : opts.error ? 401 : 200);
    return renderPage(
      c,
      <Layout title="Sign in">
        <Notice kind="error" text={opts.error ? (MESSAGES[opts.error] ?? MESSAGES.login_failed) : undefined} />
        <Notice kind="ok" text={opts.info ? MESSAGES[opts.info] : undefined} />
        <div class="grid">
          {deps.passwordSources.map((s) => (
            <form method="post" action="/login/password" class="card" aria-label={`Sign in with ${s.id}`}>
              <h2>{deps.passwordSources.length > 1 ? `Password (${s.id})` : "Username and password"}</h2>
              <CsrfField token={csrf} />
              <input type="hidden" name="source" value={s.id} />
              <input type="hidden" name="return_to" value={opts.returnTo} />
              <label for={`username-${s.id}`}>Username</label>
              <input
                id={`username-${s.id}`}
                type="text"
                name="username"
                autocomplete="username"
                required
                value={opts.username ?? ""}
              />
              <label for={`password-${s.id}`}>Password</label>
              <input id={`password-${s.id}`} type="password" name="password" autocomplete="current-password" required />
              <button type="submit">Sign in</button>
            </form>
          ))}
          {deps.redirectSources.length > 0 ? (
            <div class="card">
              <h2>Single sign-on</h2>
              {deps.redirectSources.map((s) => (
                <form method="post" action={`/login/sso/${encodeURIComponent(s.id)}`}>
                  <CsrfField token={csrf} />
                  <input type="hidden" name="return_to" value={opts.returnTo} />
                  <button type="submit" class="secondary">{`Sign in with ${s.displayName}`}</button>
                </form>
              ))}
            </div>
          ) : null}
          {deps.passkeys ? <PasskeySignInCard csrf={csrf} returnTo={opts.returnTo} /> : null}
        </div>
        {deps.passkeys ? <PasskeyScript /> : null}
      </Layout>,
      status,
    );
  };

  app.get("/login", async (c) => {
    const returnTo = safeReturnTo(c.req.query("return_to"));
    // `prompt=login` (from the IdP's authorize, for prompt=login or max_age): ask again, and keep the current session
    // until the new sign-in succeeds.
    if (c.req.query("prompt") !== "login" && (await deps.sessions.read(c))) return c.redirect(returnTo, 303);
    const error = c.req.query("error");
    return page(c, {
      returnTo,
      error: error && error in MESSAGES ? error : undefined,
      info: c.req.query("signed_out") !== undefined ? "signed_out" : undefined,
    });
  });

  app.post("/login/password", async (c) => {
    const body = await c.req.parseBody();
    const returnTo = safeReturnTo(typeof body.return_to === "string" ? body.return_to : undefined);
    if (!deps.sessions.checkLoginCsrf(c, typeof body.csrf === "string" ? body.csrf : undefined))
      return page(c, { returnTo, error: "csrf_failed", status: 403 });
    const form = parseFields(body, PasswordForm);
    const source = deps.passwordSources.find((s) => s.id === form.source);
    try {
      // An unknown source gets the same answer as a wrong password.
      if (!source) throw new ArchwayError("login_failed", "unknown source", 401);
      const identity = await deps.guard.login(source, form.username, form.password, clientIp(c));
      // A second factor (docs/mfa.md): the password only opens the second step, never a session.
      const step = deps.mfa ? await deps.mfa.secondStep(identity) : "none";
      if (deps.mfa && step !== "none") {
        const nonce = deps.sessions.loginNonce(c);
        const enrol = step === "enrol";
        const { id } = await deps.mfa.pending.start(identity, {
          methods: ["password"],
          purpose: "web",
          returnTo,
          enrol,
          ...(nonce ? { nonce } : {}),
        });
        const enrolment = enrol ? await deps.mfa.beginTotp(identity, "authenticator app") : undefined;
        return secondStepPage(c, deps, { pendingId: id, personId: identity.id, ...(enrolment ? { enrolment } : {}) });
      }
      await deps.sessions.start(c, identity);
      await deps.audit({ type: "web.signin", actor: identity.username, identity: identity.id, method: "password" });
      return c.redirect(returnTo, 303);
    } catch (err) {
      if (!isArchwayError(err) || !(err.code in MESSAGES)) throw err;
      const retryAfter = retryAfterOf(err);
      if (retryAfter !== undefined) c.header("retry-after", String(retryAfter));
      return page(c, {
        returnTo,
        error: err.code,
        username: form.username,
        ...(err.code === "directory_unavailable" ? { status: 503 as const } : {}),
      });
    }
  });

  app.post("/logout", async (c) => {
    const session = await deps.sessions.read(c);
    const body = await c.req.parseBody();
    if (session && !deps.sessions.checkCsrf(session, typeof body.csrf === "string" ? body.csrf : undefined))
      throw new ArchwayError("csrf_failed", "this form did not come from Archway; reload and retry", 403);
    const upstream = await deps.sessions.end(c);
    if (session)
      await deps.audit({ type: "web.signout", actor: session.identity.username, identity: session.identity.id });
    const back = `${deps.publicUrl}/login?signed_out`;
    const source = upstream && deps.redirectSources.find((s) => s.id === upstream.source);
    const logout =
      source && (await source.logoutUrl({ idToken: upstream?.idToken, postLogoutRedirectUri: back }).catch(() => null));
    return c.redirect(logout ?? "/login?signed_out", 303);
  });
  return app;
}
