import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../errors.js";
import { OffboardedPeople, retryAfterOf, satisfiesMfa } from "../../identity/index.js";
import { getJson, setJson } from "../../store/index.js";
import { clientIp } from "../env.js";
import type { WebDeps } from "./deps.js";
import { CsrfField, Layout, Notice, renderPage } from "./layout.js";
import { secondStepPage } from "./mfa-login.js";
import { PasskeyScript, PasskeySignInCard } from "./passkeys/index.js";
import { parseFields, type WebContext, type WebEnv } from "./security.js";
import { safeReturnTo } from "./session.js";
import { startSsoSession } from "./sso-session.js";

const PasswordForm = z.object({
  csrf: z.string().optional(),
  source: z.string().min(1).max(100),
  username: z.string().trim().min(1, "enter your username").max(256),
  password: z.string().min(1, "enter your password").max(1024),
  return_to: z.string().max(4096).optional(),
});
const SsoForm = z.object({ csrf: z.string().optional(), return_to: z.string().max(4096).optional() });
const PendingSso = z.object({ source: z.string(), pending: z.string(), returnTo: z.string(), nonce: z.string() });

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

/** `/login` (a password form per password source, a button per upstream SSO), its posts, the SSO callback, `/logout`. */
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

  app.post("/login/sso/:source", async (c) => {
    const body = parseFields(await c.req.parseBody(), SsoForm);
    const returnTo = safeReturnTo(body.return_to);
    const nonce = deps.sessions.loginNonce(c);
    if (!nonce || !deps.sessions.checkLoginCsrf(c, body.csrf)) return c.redirect("/login?error=csrf_failed", 303);
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!source) throw new ArchwayError("not_found", "no such sign-in method", 404);
    const start = await source.beginLogin({ redirectUri: callbackUrl(deps, source.id) });
    // The round trip is bound to this browser by its login nonce: a callback opened elsewhere is refused.
    await setJson(
      deps.store,
      `web:sso:${start.state}`,
      { source: source.id, pending: start.pending, returnTo, nonce },
      { ttlMs: 10 * 60_000 },
    );
    return c.redirect(start.url, 303);
  });

  app.get("/login/sso/:source/callback", async (c) => {
    const state = c.req.query("state") ?? "";
    const key = `web:sso:${state}`;
    const pending = state ? await getJson(deps.store, key, PendingSso) : null;
    if (pending) await deps.store.delete(key); // one use only
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!pending || !source || pending.source !== source.id || pending.nonce !== deps.sessions.loginNonce(c))
      return c.redirect("/login?error=sso_failed", 303);
    const url = new URL(c.req.url);
    try {
      const done = await source.completeLogin(new URL(callbackUrl(deps, source.id) + url.search), pending.pending);
      if (await new OffboardedPeople({ store: deps.store }).get(done.identity.id))
        throw new ArchwayError("login_failed", "offboarded", 401);
      const handover = {
        source: source.id,
        ...(done.tokens.idToken ? { idToken: done.tokens.idToken } : {}),
        ...(done.tokens.refreshToken ? { refreshToken: done.tokens.refreshToken } : {}),
        ...(done.tokens.sid ? { sid: done.tokens.sid } : {}),
      };
      // The source asks a second factor the upstream did not report: Archway's own second step, as after a password.
      const step = deps.mfa && !satisfiesMfa(done.auth?.amr) ? await deps.mfa.secondStep(done.identity) : "none";
      if (deps.mfa && step !== "none") {
        const enrol = step === "enrol";
        const { id } = await deps.mfa.pending.start(done.identity, {
          methods: ["sso"],
          purpose: "web",
          returnTo: pending.returnTo,
          enrol,
          nonce: pending.nonce,
          upstream: { ...handover, amr: done.auth?.amr ?? ["fed"], ...(done.auth?.acr ? { acr: done.auth.acr } : {}) },
        });
        const enrolment = enrol ? await deps.mfa.beginTotp(done.identity, "authenticator app") : undefined;
        // The person's own id: a passkey they hold is offered beside the code, as after a password.
        return secondStepPage(c, deps, {
          pendingId: id,
          personId: done.identity.id,
          ...(enrolment ? { enrolment } : {}),
        });
      }
      await startSsoSession(c, deps, done.identity, handover, done.auth);
      await deps.audit({
        type: "web.signin",
        actor: done.identity.username,
        identity: done.identity.id,
        method: "sso",
        source: source.id,
      });
      return c.redirect(pending.returnTo, 303);
    } catch (err) {
      await deps.audit({ type: "login.failure", source: source.id, reason: isArchwayError(err) ? err.code : "error" });
      return c.redirect("/login?error=sso_failed", 303);
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

function callbackUrl(deps: Pick<WebDeps, "publicUrl">, sourceId: string): string {
  return `${deps.publicUrl}/login/sso/${encodeURIComponent(sourceId)}/callback`;
}
