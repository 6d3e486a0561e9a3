import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../errors.js";
import { type MfaService, TooManyAttempts, type TotpEnrolment } from "../../identity/index.js";
import { clientIp } from "../env.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, Notice, PostButton, renderPage, when } from "./layout.js";
import { recoveryCodesPage, TotpEnrolmentFields } from "./mfa-login.js";
import { person, readForm, requireAdmin, requireApi, requirePage, type WebContext, type WebEnv } from "./security.js";

/** Paths of the second-factor pages and API (their security headers apply). */
export const MFA_PATHS = ["/mfa", "/mfa/*"];

const LabelForm = z.object({ label: z.string().trim().min(1).max(100).default("authenticator app") });
const ConfirmForm = z.object({ enrolment: z.string().min(1).max(100), code: z.string().trim().min(1).max(64) });
const RemoveForm = z.object({ id: z.string().min(1).max(100), code: z.string().trim().max(64).optional() });
const ResetForm = z.object({ person: z.string().trim().min(1).max(300) });
const ResetBody = z.object({ person: z.string().trim().min(1).max(300) }).strict();

/**
 * `/mfa`: a person's second factors (list, add an authenticator app with a QR code and a confirmation code,
 * remove one, new recovery codes); an administrator's reset of someone's factors, on `/admin/people` and as
 * `POST /api/v1/admin/mfa/reset`.
 */
export function mfaPageRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/mfa", requirePage(deps));
  app.use("/mfa/*", requirePage(deps));
  app.use("/admin/people/mfa/*", requirePage(deps), requireAdmin(deps));
  app.use("/api/v1/admin/mfa/*", requireApi(deps), requireAdmin(deps));
  const mfa = (): MfaService => {
    if (!deps.mfa) throw new ArchwayError("not_found", "second factors are not available", 404);
    return deps.mfa;
  };

  app.get("/mfa", (c) => page(c, deps, mfa(), {}));

  app.post("/mfa/totp", async (c) => {
    const form = await readForm(c, deps, LabelForm);
    return page(c, deps, mfa(), { enrolment: await mfa().beginTotp(person(c).identity, form.label) });
  });

  app.post("/mfa/totp/confirm", async (c) => {
    const form = await readForm(c, deps, ConfirmForm);
    try {
      const done = await mfa().confirmTotp(person(c).identity, form.enrolment, form.code);
      return recoveryCodesPage(c, done.recoveryCodes ?? [], "/mfa");
    } catch (err) {
      if (!isArchwayError(err) || err.code !== "mfa_failed") throw err;
      return page(c, deps, mfa(), { error: err.message, status: 400 });
    }
  });

  app.post("/mfa/remove", async (c) => {
    const form = await readForm(c, deps, RemoveForm);
    try {
      await mfa().remove(person(c).identity, form.id, {
        ...(form.code ? { freshCode: form.code } : {}),
        address: clientIp(c),
      });
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      if (err instanceof TooManyAttempts) c.header("retry-after", String(err.retryAfterSeconds));
      return page(c, deps, mfa(), { error: err.message, status: err.status === 429 ? 429 : 400 });
    }
    return c.redirect("/mfa", 303);
  });

  app.post("/mfa/recovery", async (c) => {
    await readForm(c, deps, z.object({}));
    return recoveryCodesPage(c, await mfa().renewRecoveryCodes(person(c).identity), "/mfa");
  });

  app.post("/admin/people/mfa/reset", async (c) => {
    const form = await readForm(c, deps, ResetForm);
    await mfa().reset(form.person, `web:${person(c).identity.username}`);
    return c.redirect(`/admin/people?person=${encodeURIComponent(form.person)}`, 303);
  });

  app.post("/api/v1/admin/mfa/reset", async (c) => {
    const body = ResetBody.safeParse(await c.req.json().catch(() => null));
    if (!body.success) throw new ArchwayError("invalid_request", "expected { person: <identity id> }", 400);
    const removed = await mfa().reset(body.data.person, `api:${person(c).identity.username}`);
    return c.json({ person: body.data.person, removed });
  });
  return app;
}

async function page(
  c: WebContext,
  deps: WebDeps,
  mfa: MfaService,
  opts: { enrolment?: TotpEnrolment; error?: string; status?: 200 | 400 | 429 },
) {
  const user = pageUser(deps, c);
  const { identity } = person(c);
  const factors = await mfa.list(identity.id);
  const primaries = factors.filter((f) => f.kind !== "recovery");
  const recovery = factors.find((f) => f.kind === "recovery");
  return renderPage(
    c,
    <Layout title="Second factors" user={user} current="home">
      <Notice kind="error" text={opts.error} />
      <p class="muted">{`Your source's setting: ${mfa.mode(identity.source)}.`}</p>
      <h2>Your factors</h2>
      {primaries.length === 0 ? <p class="muted">none yet</p> : null}
      <ul aria-label="Factors">
        {primaries.map((f) => (
          <li data-factor={f.id}>
            <PostButton
              action="/mfa/remove"
              csrf={user.csrf}
              fields={{ id: f.id }}
              label="Remove"
              kind="secondary"
              formClass="inline"
            >
              {`${f.kind === "totp" ? "Authenticator app" : f.kind === "webauthn" ? "Passkey" : f.kind}: ${f.label} (added ${when(new Date(f.createdAt).toISOString())}) `}
              {primaries.length === 1 ? (
                <input
                  name="code"
                  aria-label="Current code, or a recovery code (needed to remove your last factor)"
                  placeholder="code"
                />
              ) : null}
            </PostButton>
          </li>
        ))}
      </ul>
      {recovery ? (
        <PostButton action="/mfa/recovery" csrf={user.csrf} fields={{}} label="New recovery codes" kind="secondary">
          <p>{`Recovery codes left: ${recovery.remaining ?? 0}. `}</p>
        </PostButton>
      ) : null}
      {opts.enrolment ? (
        <form method="post" action="/mfa/totp/confirm" class="card" aria-label="Set up an authenticator app">
          <h2>Set up an authenticator app</h2>
          <CsrfField token={user.csrf} />
          <TotpEnrolmentFields enrolment={opts.enrolment} />
          <label for="code">Code from the app</label>
          <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required />
          <button type="submit">Confirm</button>
        </form>
      ) : (
        <form method="post" action="/mfa/totp" class="card" aria-label="Add an authenticator app">
          <CsrfField token={user.csrf} />
          <label for="label">Name of the device</label>
          <input id="label" name="label" value="authenticator app" />
          <button type="submit">Add an authenticator app</button>
        </form>
      )}
    </Layout>,
    opts.status ?? 200,
  );
}
