import { createHash, randomBytes } from "node:crypto";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../errors.js";
import {
  isFrontChannelLogoutSource,
  isMetadataSource,
  OffboardedPeople,
  type RedirectSource,
  satisfiesMfa,
} from "../../identity/index.js";
import { getJson, setJson } from "../../store/index.js";
import { safeEqual } from "../safe-equal.js";
import type { WebDeps } from "./deps.js";
import { Layout, renderPage } from "./layout.js";
import { secondStepPage } from "./mfa-login.js";
import { parseFields, type WebContext, type WebEnv } from "./security.js";
import { safeReturnTo } from "./session.js";
import { SSO_POST_SCRIPT } from "./sso-post-script.js";
import { startSsoSession } from "./sso-session.js";
import { endUpstreamSessions } from "./upstream-logout.js";

const SsoForm = z.object({ csrf: z.string().optional(), return_to: z.string().max(4096).optional() });
const PendingSso = z.object({
  source: z.string(),
  pending: z.string(),
  returnTo: z.string(),
  nonce: z.string(),
  /** SHA-256 of the purpose-bound cookie's value: what a cross-site POST callback is bound to. */
  binding: z.string(),
});
/** How long an upstream round trip may take, and its purpose-bound cookie live. */
const ROUND_TRIP_MS = 10 * 60_000;

/**
 * Upstream single sign-on (OIDC, SAML): `POST /login/sso/{source}` starts a round trip, the callback completes it
 * (`GET`, or `POST` for an upstream that posts its answer, SAML's HTTP-POST binding), `GET /login/sso/{source}/metadata`
 * describes Archway to an upstream that wants it, and `/login/sso/{source}/logout` receives the upstream's
 * front-channel logout messages.
 *
 * A round trip is bound to the browser that started it twice over: the login nonce (a SameSite=Lax cookie, sent
 * with the top-level GET callback of OIDC) and a purpose-bound cookie made for this round trip alone (SameSite=None,
 * Secure, HttpOnly, path `/login/sso/`, ten minutes), which the browser also sends with an upstream's cross-site POST
 * callback. The web session cookie stays SameSite=Lax: the POST callback never needs it.
 */
export function ssoRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  const bindingCookie = deps.sessions.secure ? "__Secure-archway_sso" : "archway_sso";
  const callbackUrl = (sourceId: string) => `${deps.publicUrl}/login/sso/${encodeURIComponent(sourceId)}/callback`;

  app.post("/login/sso/:source", async (c) => {
    const body = parseFields(await c.req.parseBody(), SsoForm);
    const returnTo = safeReturnTo(body.return_to);
    const nonce = deps.sessions.loginNonce(c);
    if (!nonce || !deps.sessions.checkLoginCsrf(c, body.csrf)) return c.redirect("/login?error=csrf_failed", 303);
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!source) throw new ArchwayError("not_found", "no such sign-in method", 404);
    const start = await source.beginLogin({ redirectUri: callbackUrl(source.id) });
    const binding = randomBytes(24).toString("base64url");
    await setJson(
      deps.store,
      `web:sso:${start.state}`,
      { source: source.id, pending: start.pending, returnTo, nonce, binding: digest(binding) },
      { ttlMs: ROUND_TRIP_MS },
    );
    // SameSite=None requires Secure; browsers keep Secure cookies over http on loopback only, as for the session.
    setCookie(c, bindingCookie, binding, {
      path: "/login/sso/",
      httpOnly: true,
      secure: true,
      sameSite: "None",
      maxAge: ROUND_TRIP_MS / 1000,
    });
    if (!start.form) return c.redirect(start.url, 303);
    return renderPage(
      c,
      <Layout title="Signing in">
        <form id="sso-post" method="post" action={start.url} class="card">
          {Object.entries(start.form).map(([name, value]) => (
            <input type="hidden" name={name} value={value} />
          ))}
          <p>{`Continuing to ${source.displayName}…`}</p>
          <button type="submit">Continue</button>
        </form>
        <script dangerouslySetInnerHTML={{ __html: SSO_POST_SCRIPT }} />
      </Layout>,
    );
  });

  /** Takes the round trip's record (one use), checks it belongs to this browser, and completes the sign-in. */
  const complete = async (c: WebContext, form: URLSearchParams | undefined) => {
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    const state = (form ?? new URL(c.req.url).searchParams).get(source?.stateParameter ?? "state") ?? "";
    const key = `web:sso:${state}`;
    const record = state ? await getJson(deps.store, key, PendingSso) : null;
    // Taken by the delete itself, so two callbacks racing with one state cannot both pass.
    const pending = record && (await deps.store.delete(key)) ? record : null;
    const bound =
      pending &&
      (form
        ? safeEqual(pending.binding, digest(getCookie(c, bindingCookie) ?? ""))
        : pending.nonce === deps.sessions.loginNonce(c));
    deleteCookie(c, bindingCookie, { path: "/login/sso/", secure: true });
    if (!source || !pending || pending.source !== source.id || !bound) {
      if (source) await deps.audit({ type: "login.failure", source: source.id, reason: "sso_state" });
      return c.redirect("/login?error=sso_failed", 303);
    }
    const url = new URL(c.req.url);
    try {
      const done = await source.completeLogin(new URL(callbackUrl(source.id) + url.search), pending.pending, form);
      if (await new OffboardedPeople({ store: deps.store }).get(done.identity.id))
        throw new ArchwayError("login_failed", "offboarded", 401);
      return await signIn(c, deps, source, done, pending);
    } catch (err) {
      deps.guard.metrics.countLogin(source.id, "failure");
      await deps.audit({ type: "login.failure", source: source.id, reason: isArchwayError(err) ? err.code : "error" });
      return c.redirect("/login?error=sso_failed", 303);
    }
  };

  app.get("/login/sso/:source/callback", (c) => complete(c, undefined));
  app.post("/login/sso/:source/callback", async (c) => complete(c, await formOf(c)));

  app.get("/login/sso/:source/metadata", async (c) => {
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!source || !isMetadataSource(source)) throw new ArchwayError("not_found", "no metadata for this source", 404);
    const { contentType, body } = await source.metadata();
    return c.body(body, 200, { "content-type": contentType, "cache-control": "public, max-age=300" });
  });

  const frontChannelLogout = async (c: WebContext, form: URLSearchParams | undefined) => {
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!source || !isFrontChannelLogoutSource(source))
      throw new ArchwayError("not_found", "no front-channel logout for this source", 404);
    let answer: Awaited<ReturnType<typeof source.frontChannelLogout>>;
    try {
      answer = await source.frontChannelLogout({ url: new URL(c.req.url), ...(form ? { form } : {}) });
    } catch (err) {
      await deps.audit({ type: "logout.frontchannel.refused", source: source.id, reason: (err as Error).message });
      throw isArchwayError(err) ? err : new ArchwayError("logout_refused", "logout message refused", 400);
    }
    if (answer.ended) {
      const ended = await endUpstreamSessions(deps, source.id, answer.ended, "upstream front-channel logout");
      // This browser's own sign-in goes too, whichever session it was.
      await deps.sessions.end(c, "upstream front-channel logout");
      await deps.audit({
        type: "logout.frontchannel",
        source: source.id,
        ...(answer.ended.personId ? { identity: answer.ended.personId } : {}),
        ...(answer.ended.sid ? { upstreamSid: answer.ended.sid } : {}),
        sessionsEnded: ended,
      });
    }
    return c.redirect(answer.redirect ?? "/login?signed_out", 303);
  };
  app.get("/login/sso/:source/logout", (c) => frontChannelLogout(c, undefined));
  app.post("/login/sso/:source/logout", async (c) => frontChannelLogout(c, await formOf(c)));
  return app;
}

/** After the upstream said who it is: Archway's own second step when one is due, else the session. */
async function signIn(
  c: WebContext,
  deps: WebDeps,
  source: RedirectSource,
  done: Awaited<ReturnType<RedirectSource["completeLogin"]>>,
  pending: z.infer<typeof PendingSso>,
): Promise<Response> {
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
  deps.guard.metrics.countLogin(source.id, "success");
  await deps.audit({
    type: "web.signin",
    actor: done.identity.username,
    identity: done.identity.id,
    method: "sso",
    source: source.id,
  });
  return c.redirect(pending.returnTo, 303);
}

async function formOf(c: WebContext): Promise<URLSearchParams> {
  const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) if (typeof value === "string") form.set(name, value);
  return form;
}

function digest(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}
