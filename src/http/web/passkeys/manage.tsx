import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../../errors.js";
import {
  type PasskeyRecord,
  parseRegistrationResponse,
  passkeyFactorId,
  TooManyAttempts,
} from "../../../identity/index.js";
import { clientIp } from "../../env.js";
import type { WebDeps } from "../deps.js";
import { pageUser } from "../home.js";
import { CsrfField, Layout, Notice, PostButton, renderPage, when } from "../layout.js";
import { recoveryCodesPage } from "../mfa-login.js";
import { person, readForm, requirePage, type WebContext, type WebEnv } from "../security.js";
import { PasskeyScript } from "./script.js";

/** Paths of the person's passkey page (their security headers apply). */
export const PASSKEY_PATHS = ["/passkeys", "/passkeys/*"];

const AddForm = z.object({
  name: z.string().trim().min(1, "name the passkey").max(64),
  credential: z.string().min(1, "use your passkey first").max(65536),
});
const RemoveForm = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,1400}$/),
  /** A recovery code or a TOTP code: removing the person's last factor needs a fresh second factor. */
  code: z.string().trim().max(64).optional(),
});

const OK: Record<string, string> = {
  added: "Passkey added. You can use it to sign in.",
  removed: "Passkey removed: it no longer signs you in.",
};

const kindOf = (r: PasskeyRecord) =>
  r.deviceType === "multiDevice"
    ? "synced passkey"
    : r.transports.includes("internal")
      ? "this device"
      : "security key";

/** `/passkeys`: the person's passkeys and security keys (list, add with a name, remove). */
export function passkeyManageRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  for (const path of PASSKEY_PATHS) app.use(path, requirePage(deps));
  const passkeys = () => {
    if (!deps.passkeys) throw new ArchwayError("not_found", "passkeys are not enabled", 404);
    return deps.passkeys;
  };

  const page = async (
    c: WebContext,
    opts: { ok?: string; error?: string; name?: string; status?: 200 | 400 | 429 },
  ) => {
    const user = pageUser(deps, c);
    const personId = person(c).identity.id;
    const list = await passkeys().credentials.list(personId);
    // The person's only factor (no TOTP, one passkey): removing it asks a recovery code (docs/mfa.md).
    const last =
      deps.mfa !== undefined &&
      list.length === 1 &&
      (await deps.mfa.list(personId)).filter((f) => f.kind !== "recovery").length === 1;
    return renderPage(
      c,
      <Layout title="Passkeys and security keys" user={user}>
        <Notice kind="error" text={opts.error} />
        <Notice kind="ok" text={opts.ok ? OK[opts.ok] : undefined} />
        <p class="muted">
          A passkey signs you in without a password, or confirms a password sign-in as its second step. Security keys
          and phones work too.
        </p>
        {list.length === 0 ? (
          <p>You have no passkeys yet.</p>
        ) : (
          <div class="scroll">
            <table>
              <caption class="muted">Your passkeys</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Added</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span class="skip">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((r) => (
                  <tr data-passkey-id={r.id}>
                    <th scope="row">{r.name}</th>
                    <td>{kindOf(r)}</td>
                    <td>{when(r.createdAt)}</td>
                    <td>{when(r.lastUsedAt)}</td>
                    <td>
                      <PostButton
                        action="/passkeys/remove"
                        csrf={user.csrf}
                        fields={{ id: r.id }}
                        label="Remove"
                        kind="danger"
                        ariaLabel={`Remove passkey ${r.name}`}
                      >
                        {last ? (
                          <input
                            name="code"
                            aria-label="A recovery code (needed to remove your last factor)"
                            placeholder="recovery code"
                          />
                        ) : null}
                      </PostButton>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <form
          method="post"
          action="/passkeys"
          class="card"
          aria-label="Add a passkey"
          data-passkey="create"
          data-options="/passkeys/options"
          data-csrf={user.csrf}
        >
          <CsrfField token={user.csrf} />
          <label for="passkey-name">Name</label>
          <input id="passkey-name" type="text" name="name" required maxlength={64} value={opts.name ?? ""} />
          <input type="hidden" name="credential" value="" />
          <p data-passkey-status role="status" class="muted" />
          <button type="submit">Add a passkey</button>
        </form>
        <PasskeyScript />
      </Layout>,
      opts.status ?? 200,
    );
  };

  app.get("/passkeys", (c) => {
    const ok = c.req.query("ok");
    return page(c, { ok: ok && ok in OK ? ok : undefined });
  });

  app.post("/passkeys/options", async (c) => {
    const p = person(c);
    if (!p.sessionId || !deps.sessions.checkCsrf({ sessionId: p.sessionId }, c.req.header("x-csrf-token")))
      throw new ArchwayError("csrf_failed", "this page has expired; reload and retry", 403);
    return c.json(await passkeys().registrationOptions(p.identity, p.sessionId));
  });

  app.post("/passkeys", async (c) => {
    const form = await readForm(c, deps, AddForm);
    const p = person(c);
    try {
      const record = await passkeys().register(
        p.identity,
        p.sessionId as string,
        parseRegistrationResponse(form.credential),
        form.name,
      );
      await deps.audit({
        type: "mfa.passkey.added",
        actor: p.identity.username,
        identity: p.identity.id,
        name: record.name,
      });
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      return page(c, { error: `The passkey was not added: ${err.message}`, name: form.name, status: 400 });
    }
    // A passkey as the person's first factor comes with recovery codes, as a first TOTP does.
    const codes = await deps.mfa?.firstFactorRecoveryCodes(p.identity);
    if (codes) return recoveryCodesPage(c, codes, "/passkeys?ok=added");
    return c.redirect("/passkeys?ok=added", 303);
  });

  app.post("/passkeys/remove", async (c) => {
    const form = await readForm(c, deps, RemoveForm);
    const { identity } = person(c);
    if (!deps.mfa) {
      if (await passkeys().credentials.remove(identity.id, form.id))
        await deps.audit({ type: "mfa.passkey.removed", actor: identity.username, identity: identity.id });
      return c.redirect("/passkeys?ok=removed", 303);
    }
    // As a factor: the last-factor rule, the recovery codes going with the last one, `mfa.removed`, the index.
    if (!(await passkeys().credentials.list(identity.id)).some((r) => r.id === form.id))
      return c.redirect("/passkeys?ok=removed", 303);
    try {
      await deps.mfa.remove(identity, passkeyFactorId(form.id), {
        ...(form.code ? { freshCode: form.code } : {}),
        address: clientIp(c),
      });
    } catch (err) {
      if (!isArchwayError(err) || err.status >= 500) throw err;
      if (err instanceof TooManyAttempts) c.header("retry-after", String(err.retryAfterSeconds));
      return page(c, { error: `The passkey was not removed: ${err.message}`, status: err.status === 429 ? 429 : 400 });
    }
    await deps.audit({ type: "mfa.passkey.removed", actor: identity.username, identity: identity.id });
    return c.redirect("/passkeys?ok=removed", 303);
  });
  return app;
}
