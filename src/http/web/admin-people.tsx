import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError, isArchwayError } from "../../errors.js";
import { isUpstreamStatus } from "../../openstack/index.js";
import { unlockFor } from "./admin-lockouts.js";
import { personPage } from "./admin-person.js";
import { resolvePerson } from "./admin-person-data.js";
import type { WebDeps } from "./deps.js";
import { person, readForm, requireAdmin, requirePage, type WebContext, type WebEnv } from "./security.js";

const PersonRef = z.string().trim().min(1).max(300);
const Confirm = z.literal("yes", { error: "tick the box to confirm" });
const ActionForm = z.object({ person: PersonRef, confirm: Confirm, reason: z.string().trim().max(300).optional() });
const PersonForm = z.object({ person: PersonRef });
const EndForm = z.object({ person: PersonRef, sid: z.string().min(1).max(200) });
const RevokeForm = z.object({ person: PersonRef, id: z.string().regex(/^[0-9a-f]{32}$/) });
const FactorForm = z.object({ person: PersonRef, id: z.string().min(1).max(100), confirm: Confirm });

/**
 * `/admin/people`: find a person (username or identity id, or a link from the audit log and the lockouts page) and
 * act on them: end a session or all of them, drop their cached Keystone tokens, revoke an application credential,
 * remove a second factor (confirmed), unlock their sign-in, offboard or undo. Every action is a CSRF-checked form
 * post, refused to auditors by `requireAdmin`, audited with who acted, and answered with a redirect to the page.
 */
export function adminPeopleRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/people", requirePage(deps), requireAdmin(deps));
  app.use("/admin/people/*", requirePage(deps), requireAdmin(deps));
  const back = (c: WebContext, id: string, done: string) =>
    c.redirect(`/admin/people?${new URLSearchParams({ person: id, done })}`, 303);
  const actor = (c: WebContext) => person(c).identity.username;

  app.get("/admin/people", async (c) => {
    const ref = c.req.query("person");
    const done = c.req.query("done")?.slice(0, 200);
    if (!ref) return personPage(c, deps);
    try {
      return await personPage(c, deps, { target: await resolvePerson(deps, PersonRef.parse(ref)), notice: done });
    } catch (err) {
      if (!isArchwayError(err) || err.code !== "person_unknown") throw err;
      return personPage(c, deps, { error: err.message, query: ref });
    }
  });

  // One session ended ("all" ends every one of them): its tokens, grants and refresh tokens with it.
  app.post("/admin/people/sessions/end", async (c) => {
    const form = await readForm(c, deps, EndForm);
    const target = await resolvePerson(deps, form.person);
    const reason = `ended by ${actor(c)} on the admin page`;
    let ended = 0;
    if (form.sid === "all") ended = await deps.tokenSessions.endPerson(target.id, reason);
    else if ((await deps.tokenSessions.session(form.sid))?.personId === target.id)
      ended = (await deps.tokenSessions.end(form.sid, reason)) ? 1 : 0;
    await deps.audit({ type: "session.end_requested", actor: actor(c), person: target.id, sid: form.sid, ended });
    return back(c, target.id, `${ended} session(s) ended.`);
  });

  app.post("/admin/people/tokens/drop", async (c) => {
    const form = await readForm(c, deps, PersonForm);
    const target = await resolvePerson(deps, form.person);
    await deps.broker?.drop(target.id);
    await deps.audit({ type: "broker.tokens_dropped", actor: actor(c), person: target.id, via: "web" });
    return back(c, target.id, "Cached Keystone tokens dropped.");
  });

  // An application credential deleted in its cloud with the cloud's admin account, then forgotten.
  app.post("/admin/people/app-credentials/revoke", async (c) => {
    const form = await readForm(c, deps, RevokeForm);
    const target = await resolvePerson(deps, form.person);
    const record = (await deps.appCredentials?.list(target.id))?.find((r) => r.id === form.id);
    const cloud = record && deps.clouds.find((cl) => cl.id === record.cloudId);
    if (!record || !cloud) throw new ArchwayError("not_found", "no such application credential of this person", 404);
    if (deps.sync)
      await deps.sync
        .clients(cloud)
        .keystone.request({
          operation: "keystone.application_credentials.delete",
          method: "DELETE",
          path: `/users/${encodeURIComponent(record.userId)}/application_credentials/${encodeURIComponent(record.id)}`,
        })
        .catch((err: unknown) => {
          if (!isUpstreamStatus(err, 404)) throw err;
        });
    await deps.appCredentials?.forget(target.id, record.id);
    await deps.audit({ type: "appcred.revoked", actor: actor(c), person: target.id, id: record.id, via: "admin" });
    return back(c, target.id, `Application credential ${record.name} revoked.`);
  });

  app.post("/admin/people/mfa/remove", async (c) => {
    const form = await readForm(c, deps, FactorForm);
    const target = await resolvePerson(deps, form.person);
    if (!deps.mfa) throw new ArchwayError("not_found", "second factors are not available", 404);
    if (!(await deps.mfa.removeFor(target.id, form.id, `web:${actor(c)}`)))
      throw new ArchwayError("not_found", "no such factor of this person", 404);
    return back(c, target.id, "Factor removed.");
  });

  app.post("/admin/people/unlock", async (c) => {
    const form = await readForm(c, deps, PersonForm);
    const target = await resolvePerson(deps, form.person);
    const result = await unlockFor(c, deps, target.id, "web");
    return back(c, target.id, `Unlocked: ${result.cleared} limit(s) cleared.`);
  });

  for (const action of ["offboard", "undo"] as const) {
    app.post(`/admin/people/${action}`, async (c) => {
      const form = await readForm(c, deps, ActionForm);
      if (!deps.offboard)
        throw new ArchwayError("offboard_unavailable", "offboarding needs sync (secrets.shadowPasswordKey)", 503);
      const target = await resolvePerson(deps, form.person);
      const by = `web:${actor(c)}`;
      const report =
        action === "offboard"
          ? await deps.offboard.offboarder.offboard(target, {
              cause: "kill-switch",
              reason: form.reason || "admin page",
              actor: by,
            })
          : await deps.offboard.offboarder.restore(target, {
              reason: form.reason || "undone on the admin page",
              actor: by,
            });
      return personPage(c, deps, { target, report });
    });
  }
  return app;
}
