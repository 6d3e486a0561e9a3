import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../../errors.js";
import {
  type Identity,
  isLookupSource,
  OffboardedPeople,
  type PasskeyOwner,
  parseAuthenticationResponse,
} from "../../../identity/index.js";
import type { WebDeps } from "../deps.js";
import { CsrfField } from "../layout.js";
import { browserPending, PASSKEY_SECOND_STEP_PATH, secondStepPage, startAfterSecondStep } from "../mfa-login.js";
import { parseFields, type WebContext, type WebEnv } from "../security.js";
import { safeReturnTo } from "../session.js";
import { PasskeyScript } from "./script.js";

const AnswerForm = z.object({
  csrf: z.string().optional(),
  credential: z.string().min(1, "use your passkey first").max(16384),
  return_to: z.string().max(4096).optional(),
});
const SecondStepForm = AnswerForm.omit({ return_to: true }).extend({ pending: z.string().min(1).max(200) });

/** The usernameless form on `/login` ("Sign in with a passkey"); the page adds {@link PasskeyScript} once. */
export const PasskeySignInCard: FC<{ csrf: string; returnTo: string }> = ({ csrf, returnTo }) => (
  <form
    method="post"
    action="/login/passkey"
    class="card"
    aria-label="Sign in with a passkey"
    data-passkey="get"
    data-options="/login/passkey/options"
    data-csrf={csrf}
  >
    <h2>Passkey</h2>
    <p class="muted">No username needed: your device shows the passkeys you have for Archway.</p>
    <CsrfField token={csrf} />
    <input type="hidden" name="return_to" value={returnTo} />
    <input type="hidden" name="credential" value="" />
    <p data-passkey-status role="status" class="muted" />
    <button type="submit">Continue with a passkey</button>
  </form>
);

/**
 * Passkey sign-in: usernameless (`/login/passkey`, a discoverable credential with user verification starts a
 * full session) and the passkey answer of the second step after a password (`/login/mfa/passkey`). Options endpoints answer JSON
 * for the page's script; the answers come back as ordinary form posts.
 */
export function passkeyLoginRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  const passkeys = () => {
    if (!deps.passkeys) throw new ArchwayError("not_found", "passkeys are not enabled", 404);
    return deps.passkeys;
  };
  const loginCsrf = (c: WebContext, token: string | undefined) => {
    if (!deps.sessions.checkLoginCsrf(c, token))
      throw new ArchwayError("csrf_failed", "the sign-in form expired; reload and retry", 403);
    // Checked above: the nonce exists.
    return deps.sessions.loginNonce(c) as string;
  };

  app.post("/login/passkey/options", async (c) => {
    const binding = loginCsrf(c, c.req.header("x-csrf-token"));
    return c.json(await passkeys().authenticationOptions({ binding }));
  });

  app.post("/login/passkey", async (c) => {
    const body = await c.req.parseBody();
    const returnTo = safeReturnTo(typeof body.return_to === "string" ? body.return_to : undefined);
    const back = `/login?error=passkey_failed&return_to=${encodeURIComponent(returnTo)}`;
    try {
      const binding = loginCsrf(c, typeof body.csrf === "string" ? body.csrf : undefined);
      const form = parseFields(body, AnswerForm);
      const done = await passkeys().authenticate({ binding }, parseAuthenticationResponse(form.credential), (owner) =>
        currentIdentity(deps, owner),
      );
      const identity = done.owner.identity;
      if (await new OffboardedPeople({ store: deps.store }).get(identity.id))
        throw new ArchwayError("passkey_failed", "offboarded", 401);
      await deps.sessions.start(c, identity, undefined, { amr: done.amr });
      await deps.audit({
        type: "web.signin",
        actor: identity.username,
        identity: identity.id,
        method: "passkey",
        amr: done.amr,
        credential: done.credential.name,
      });
      return c.redirect(returnTo, 303);
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      await deps.audit({ type: "login.failure", method: "passkey", reason: err.code });
      return c.redirect(back, 303);
    }
  });

  const pendingOf = async (c: WebContext, id: string | undefined) => {
    const pending = id ? await browserPending(c, deps, id) : null;
    return pending && !pending.enrol ? pending : null;
  };

  // The passkey beside the TOTP / recovery code on the one second-step page (mfa-login.tsx): the options and the
  // answer name the pending first step, which must be this browser's, and which the answer takes once.
  app.post(`${PASSKEY_SECOND_STEP_PATH}/options`, async (c) => {
    const binding = loginCsrf(c, c.req.header("x-csrf-token"));
    const pending = await pendingOf(c, c.req.query("pending"));
    if (!pending) throw new ArchwayError("second_step_expired", "the sign-in expired; start again", 401);
    const options = await passkeys().authenticationOptions({ binding, personId: pending.identity.id });
    if (!options) throw new ArchwayError("passkey_failed", "you have no passkey", 401);
    return c.json(options);
  });

  app.post(PASSKEY_SECOND_STEP_PATH, async (c) => {
    const body = await c.req.parseBody();
    if (!deps.sessions.checkLoginCsrf(c, typeof body.csrf === "string" ? body.csrf : undefined))
      return c.redirect("/login?error=csrf_failed", 303);
    const binding = deps.sessions.loginNonce(c) as string;
    const form = parseFields(body, SecondStepForm);
    const pending = await pendingOf(c, form.pending);
    if (!pending) return c.redirect("/login?error=mfa_expired", 303);
    const { identity } = pending;
    let amr: string[];
    try {
      const done = await passkeys().authenticate(
        { binding, personId: identity.id },
        parseAuthenticationResponse(form.credential),
      );
      // A password and a key the person holds: two factors, whatever the authenticator verified.
      amr = [...new Set(["pwd", ...done.amr, "mfa"])];
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      await deps.audit({ type: "login.failure", method: "passkey", identity: identity.id, reason: err.code });
      return secondStepPage(c, deps, { pendingId: form.pending, personId: identity.id, error: "passkey_failed" });
    }
    // Taken once: a second tab that also passed does not start a second session.
    if (!(await deps.mfa?.pending.take(form.pending))) return c.redirect("/login?error=mfa_expired", 303);
    await startAfterSecondStep(c, deps, pending, amr);
    await deps.audit({
      type: "web.signin",
      actor: identity.username,
      identity: identity.id,
      method: `${pending.upstream ? "sso" : "password"}+passkey`,
      amr,
    });
    return c.redirect(safeReturnTo(pending.returnTo), 303);
  });
  return app;
}

/**
 * The person behind a passkey as their source sees them now (groups change): looked up again where the source
 * can look people up, else as they were at their last sign-in (an upstream SSO cannot be asked). Null when the
 * source no longer knows them or is no longer configured.
 */
async function currentIdentity(
  deps: Pick<WebDeps, "lookupSources" | "passwordSources" | "redirectSources">,
  owner: PasskeyOwner,
): Promise<Identity | null> {
  const sourceId = owner.identity.source;
  const lookup = deps.lookupSources.find((s) => s.id === sourceId);
  if (lookup && isLookupSource(lookup)) return lookup.lookup(owner.identity.username);
  const known = [...deps.passwordSources, ...deps.redirectSources].some((s) => s.id === sourceId);
  return known ? owner.identity : null;
}
