import type { Context } from "hono";
import { Hono } from "hono";
import { raw } from "hono/html";
import { z } from "zod";
import { isArchwayError } from "../../errors.js";
import { AMR, type Identity, type PendingSignIn, retryAfterOf, type TotpEnrolment } from "../../identity/index.js";
import { clientIp } from "../env.js";
import type { WebDeps } from "./deps.js";
import { CsrfField, Layout, Notice, renderPage } from "./layout.js";
import { PasskeyScript } from "./passkeys/script.js";
import { parseFields, type WebContext, type WebEnv } from "./security.js";
import { safeReturnTo } from "./session.js";
import { startSsoSession } from "./sso-session.js";

const CodeForm = z.object({
  csrf: z.string().optional(),
  pending: z.string().min(1).max(200),
  code: z.string().trim().min(1, "enter a code").max(64),
});
const EnrolForm = CodeForm.extend({ enrolment: z.string().min(1).max(100) });

/** Where a passkey answers the second step (`passkeys/login.tsx`); `/options` beside it gives the challenge. */
export const PASSKEY_SECOND_STEP_PATH = "/login/mfa/passkey";

const MESSAGES: Record<string, string> = {
  passkey_failed: "That passkey was not accepted. Try again, use another one, or enter a code.",
  mfa_failed: "That code did not match, or it was used already. Enter the current code from your app.",
  login_locked: "Too many wrong codes from this address. Wait a little and try again.",
  expired: "The sign-in took too long. Please sign in again.",
  csrf_failed: "The form expired. Please sign in again.",
};

/** The QR code, the otpauth URI and the key for typing in, and the confirmation field. */
export const TotpEnrolmentFields = ({ enrolment }: { enrolment: TotpEnrolment }) => (
  <>
    <p>Scan this code with an authenticator app (or type the key), then enter the code it shows.</p>
    <div class="qr" role="img" aria-label="QR code of the authenticator key" data-otpauth={enrolment.uri}>
      {raw(enrolment.qrSvg)}
    </div>
    <p>
      Key: <code data-testid="totp-secret">{enrolment.secret}</code>
    </p>
    <p class="muted">
      <a href={enrolment.uri}>Open in an authenticator app</a>
    </p>
    <input type="hidden" name="enrolment" value={enrolment.id} />
  </>
);

/**
 * The second step of a web sign-in: after the password (`login.tsx` calls {@link secondStepPage}), a form for a
 * TOTP or recovery code, or, when the source requires a factor the person does not have yet, the enrolment of one
 * (forced: no session starts before it is confirmed). The first step is a short-lived pending record bound to this
 * browser's login nonce, never a session.
 */
export function mfaLoginRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();

  app.post("/login/mfa", async (c) => {
    const { mfa, form, pending, refusal } = await readPending(c, deps, CodeForm);
    if (refusal) return refusal;
    try {
      const verified = await mfa.verify(pending.identity, form.code, clientIp(c));
      return finish(c, deps, form.pending, pending, verified.amr, verified.kind);
    } catch (err) {
      return failed(c, deps, err, { pendingId: form.pending, personId: pending.identity.id });
    }
  });

  app.post("/login/mfa/enrol", async (c) => {
    const { mfa, form, pending, refusal } = await readPending(c, deps, EnrolForm);
    if (refusal) return refusal;
    if (!pending.enrol) return failed(c, deps, "expired", {});
    try {
      const done = await mfa.confirmTotp(pending.identity, form.enrolment, form.code);
      if (!(await mfa.pending.take(form.pending))) return failed(c, deps, "expired", {});
      await startAfterSecondStep(c, deps, pending, ["pwd", "otp"]);
      await deps.audit({
        type: "web.signin",
        actor: pending.identity.username,
        identity: pending.identity.id,
        method: `${pending.upstream ? "sso" : "password"}+totp-enrolled`,
      });
      return recoveryCodesPage(c, done.recoveryCodes ?? [], safeReturnTo(pending.returnTo));
    } catch (err) {
      if (!isArchwayError(err) || err.code !== "mfa_failed") throw err;
      const enrolment = await mfa.beginTotp(pending.identity, "authenticator app");
      return secondStepPage(c, deps, { pendingId: form.pending, enrolment, error: "mfa_failed", status: 400 });
    }
  });
  return app;
}

/**
 * The page of the second step: a code form (TOTP or recovery code) and, when the person (`personId`) holds a
 * passkey, the passkey form beside it; or the forced enrolment.
 */
export async function secondStepPage(
  c: Context,
  deps: WebDeps,
  opts: {
    pendingId: string;
    personId?: string;
    enrolment?: TotpEnrolment;
    error?: string;
    status?: 200 | 400 | 401 | 403 | 429;
  },
): Promise<Response> {
  const csrf = deps.sessions.loginCsrfToken(c);
  const text = opts.error ? (MESSAGES[opts.error] ?? MESSAGES.mfa_failed) : undefined;
  const passkey =
    !opts.enrolment &&
    opts.personId !== undefined &&
    deps.passkeys !== undefined &&
    (await deps.passkeys.credentials.list(opts.personId)).length > 0;
  const options = `${PASSKEY_SECOND_STEP_PATH}/options?pending=${encodeURIComponent(opts.pendingId)}`;
  return renderPage(
    c,
    <Layout title={opts.enrolment ? "Set up a second factor" : "Second factor"}>
      <Notice kind="error" text={text} />
      {opts.enrolment ? (
        <form method="post" action="/login/mfa/enrol" class="card" aria-label="Set up an authenticator app">
          <h2>Set up an authenticator app</h2>
          <p>Your organisation requires a second factor for this account.</p>
          <CsrfField token={csrf} />
          <input type="hidden" name="pending" value={opts.pendingId} />
          <TotpEnrolmentFields enrolment={opts.enrolment} />
          <label for="code">Code from the app</label>
          <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required />
          <button type="submit">Confirm</button>
        </form>
      ) : (
        <>
          {passkey ? (
            <form
              method="post"
              action={PASSKEY_SECOND_STEP_PATH}
              class="card"
              aria-label="Use your passkey"
              data-passkey="get"
              data-options={options}
              data-csrf={csrf}
            >
              <h2>Passkey</h2>
              <p>Confirm with one of your passkeys or security keys.</p>
              <CsrfField token={csrf} />
              <input type="hidden" name="pending" value={opts.pendingId} />
              <input type="hidden" name="credential" value="" />
              <p data-passkey-status role="status" class="muted" />
              <button type="submit">Use a passkey</button>
            </form>
          ) : null}
          <form method="post" action="/login/mfa" class="card" aria-label="Second factor">
            <h2>Second factor</h2>
            <CsrfField token={csrf} />
            <input type="hidden" name="pending" value={opts.pendingId} />
            <label for="code">Code from your authenticator app, or a recovery code</label>
            <input id="code" name="code" autocomplete="one-time-code" required />
            <button type="submit">Verify</button>
          </form>
          {passkey ? <PasskeyScript /> : null}
        </>
      )}
    </Layout>,
    opts.status ?? (opts.error === "login_locked" ? 429 : opts.error ? 401 : 200),
  );
}

/** The new recovery codes, shown once, then on to where the person was going. */
export function recoveryCodesPage(c: Context, codes: readonly string[], next: string): Promise<Response> {
  return renderPage(
    c,
    <Layout title="Recovery codes">
      <section class="card" aria-label="Recovery codes">
        <h2>Recovery codes</h2>
        {codes.length > 0 ? (
          <>
            <p>
              Keep these somewhere safe. Each one signs you in once if you lose your authenticator. They are shown only
              now.
            </p>
            <ul class="recovery-codes">
              {codes.map((code) => (
                <li>
                  <code>{code}</code>
                </li>
              ))}
            </ul>
          </>
        ) : (
          <p>Your new factor is active.</p>
        )}
        <a href={next}>Continue</a>
      </section>
    </Layout>,
  );
}

/**
 * The pending first step `id` when it belongs to this browser (a web one, started with this browser's login nonce)
 * and asks a factor the person holds (not a forced enrolment); else null. The passkey second step uses it too.
 */
export async function browserPending(c: Context, deps: WebDeps, id: string): Promise<PendingSignIn | null> {
  const pending = deps.mfa ? await deps.mfa.pending.get(id) : null;
  if (pending?.purpose !== "web" || pending.nonce !== deps.sessions.loginNonce(c)) return null;
  return pending;
}

async function readPending<S extends typeof CodeForm>(c: WebContext, deps: WebDeps, schema: S) {
  const body = await c.req.parseBody();
  const mfa = deps.mfa;
  const expired = { mfa: undefined, form: undefined, pending: undefined } as const;
  if (!mfa) return { ...expired, refusal: c.redirect("/login", 303) };
  if (!deps.sessions.checkLoginCsrf(c, typeof body.csrf === "string" ? body.csrf : undefined))
    return { ...expired, refusal: c.redirect("/login?error=csrf_failed", 303) };
  const form = parseFields(body, schema) as z.infer<S>;
  // Bound to the browser that passed the first step: a pending id copied elsewhere does nothing.
  const pending = await browserPending(c, deps, form.pending);
  if (!pending) return { ...expired, refusal: await failed(c, deps, "expired", {}) };
  return { mfa, form, pending, refusal: undefined };
}

async function finish(
  c: Context,
  deps: WebDeps,
  pendingId: string,
  pending: PendingSignIn,
  amr: string[],
  kind: string,
): Promise<Response> {
  // Taken once: a second tab that also passed a code does not start a second session.
  if (!(await deps.mfa?.pending.take(pendingId))) return failed(c, deps, "expired", {});
  await startAfterSecondStep(c, deps, pending, amr);
  const identity = pending.identity;
  const method = `${pending.upstream ? "sso" : "password"}+${kind}`;
  await deps.audit({ type: "web.signin", actor: identity.username, identity: identity.id, method });
  return c.redirect(safeReturnTo(pending.returnTo), 303);
}

/**
 * The session once the second step passed, whichever factor it was (a code, a passkey): after a password, with the
 * factor's `amr` (`factorAmr`, which names the password as `pwd`); after an upstream SSO, with the upstream's `amr`
 * plus the factor's and `mfa` (the upstream's `pwd` is its own to report), and the upstream grant kept.
 */
export async function startAfterSecondStep(
  c: Context,
  deps: WebDeps,
  pending: PendingSignIn,
  factorAmr: string[],
): Promise<void> {
  const up = pending.upstream;
  if (!up) {
    await deps.sessions.start(c, pending.identity, undefined, { amr: factorAmr });
    return;
  }
  const { amr: upstreamAmr, acr, ...handover } = up;
  const factor = factorAmr.filter((m) => m !== AMR.password);
  const auth = { amr: [...new Set([...upstreamAmr, ...factor, AMR.mfa])], ...(acr ? { acr } : {}) };
  await startSsoSession(c, deps, pending.identity, handover, auth);
}

async function failed(
  c: Context,
  deps: WebDeps,
  err: unknown,
  opts: { pendingId?: string; personId?: string },
): Promise<Response> {
  if (err === "expired") return c.redirect("/login?error=mfa_expired", 303);
  if (!isArchwayError(err) || !(err.code in MESSAGES)) throw err;
  const retryAfter = retryAfterOf(err);
  if (retryAfter !== undefined) c.header("retry-after", String(retryAfter));
  return secondStepPage(c, deps, {
    pendingId: opts.pendingId ?? "",
    error: err.code,
    ...(opts.personId !== undefined ? { personId: opts.personId } : {}),
  });
}
