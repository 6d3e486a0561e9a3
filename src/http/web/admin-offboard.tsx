import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { OffboardReport, Person } from "../../offboard/index.js";
import { isUpstreamStatus } from "../../openstack/index.js";
import type { Session } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, Notice, PostButton, renderPage, when } from "./layout.js";
import { person, readForm, requireAdmin, requirePage, type WebContext, type WebEnv } from "./security.js";

const PersonRef = z.string().trim().min(1).max(300);
const ActionForm = z.object({
  person: PersonRef,
  confirm: z.literal("yes", { error: "tick the box to confirm" }),
  reason: z.string().trim().max(300).optional(),
});

const EndForm = z.object({ person: PersonRef, sid: z.string().min(1).max(200) });
const RevokeForm = z.object({ person: PersonRef, id: z.string().regex(/^[0-9a-f]{32}$/) });

const Report = ({ report }: { report: OffboardReport }) => (
  <section class="card" aria-label="Offboarding report">
    <h2>{report.action === "offboard" ? "Offboarded" : "Restored"}</h2>
    <p>
      {report.done} of {report.clouds.length} clouds done
      {report.action === "offboard" ? `; ${report.sessionsEnded} sessions ended` : ""}
      {report.pending > 0 ? `; ${report.pending} pending (queued, retried when they answer)` : ""}
    </p>
    <table>
      <thead>
        <tr>
          <th scope="col">Cloud</th>
          <th scope="col">State</th>
          <th scope="col">Users</th>
          <th scope="col">Application credentials</th>
        </tr>
      </thead>
      <tbody>
        {report.clouds.map((c) => (
          <tr data-cloud={c.cloudId}>
            <th scope="row">{c.cloudId}</th>
            <td class={c.state === "pending" ? "state-bad" : "state-ok"}>
              {c.state}
              {c.error ? <div class="muted">{c.error}</div> : null}
            </td>
            <td>{c.users}</td>
            <td>{c.appCredentials}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </section>
);

/**
 * `/admin/people`: one person as an operator sees them (offboarded or not, application credentials, what waits
 * for clouds that were down) with the kill switch and its undo; the list of people offboarded now.
 */
export function adminOffboardRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/people", requirePage(deps), requireAdmin(deps));
  app.use("/admin/people/*", requirePage(deps), requireAdmin(deps));
  const service = () => {
    if (!deps.offboard)
      throw new ArchwayError("offboard_unavailable", "offboarding needs sync (secrets.shadowPasswordKey)", 503);
    return deps.offboard;
  };

  app.get("/admin/people", async (c) => {
    const ref = c.req.query("person");
    const found = ref ? await service().resolve(PersonRef.parse(ref)) : undefined;
    return page(c, deps, found);
  });

  // One session ended ("all" ends every one of them): its tokens, grants and refresh tokens with it.
  app.post("/admin/people/sessions/end", async (c) => {
    const form = await readForm(c, deps, EndForm);
    const target = await service().resolve(form.person);
    const reason = `ended by ${person(c).identity.username} on the admin page`;
    if (form.sid === "all") await deps.tokenSessions.endPerson(target.id, reason);
    else if ((await deps.tokenSessions.session(form.sid))?.personId === target.id)
      await deps.tokenSessions.end(form.sid, reason);
    return c.redirect(`/admin/people?person=${encodeURIComponent(target.id)}`, 303);
  });

  // An application credential deleted in its cloud with the cloud's admin account, then forgotten.
  app.post("/admin/people/app-credentials/revoke", async (c) => {
    const form = await readForm(c, deps, RevokeForm);
    const target = await service().resolve(form.person);
    const record = (await deps.appCredentials?.list(target.id))?.find((r) => r.id === form.id);
    const cloud = record && deps.clouds.find((cl) => cl.id === record.cloudId);
    if (record && cloud && deps.sync) {
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
      await deps.audit({ type: "appcred.revoked", actor: person(c).identity.username, id: record.id, via: "admin" });
    }
    return c.redirect(`/admin/people?person=${encodeURIComponent(target.id)}`, 303);
  });

  for (const action of ["offboard", "undo"] as const) {
    app.post(`/admin/people/${action}`, async (c) => {
      const form = await readForm(c, deps, ActionForm);
      const target = await service().resolve(form.person);
      const actor = `web:${person(c).identity.username}`;
      const report =
        action === "offboard"
          ? await service().offboarder.offboard(target, {
              cause: "kill-switch",
              reason: form.reason || "admin page",
              actor,
            })
          : await service().offboarder.restore(target, { reason: form.reason || "undone on the admin page", actor });
      return page(c, deps, target, report);
    });
  }
  return app;
}

async function page(c: WebContext, deps: WebDeps, target?: Person, report?: OffboardReport) {
  const user = pageUser(deps, c);
  const offboard = deps.offboard;
  const offboarded = offboard ? await offboard.offboarder.offboarded.all() : new Map();
  const pending = offboard ? await offboard.offboarder.pending.all() : {};
  const entry = target ? offboarded.get(target.id) : undefined;
  const credentials = target && deps.appCredentials ? await deps.appCredentials.list(target.id) : [];
  const sessions = target ? await deps.tokenSessions.listFor(target.id) : [];
  const factors = target && deps.mfa ? await deps.mfa.list(target.id) : [];
  const waiting = target
    ? Object.entries(pending).flatMap(([cloudId, people]) => {
        const e = people[target.id];
        return e ? [{ cloudId, ...e }] : [];
      })
    : [];
  return renderPage(
    c,
    <Layout title="People" user={user} current="admin">
      <Notice kind="error" text={offboard ? undefined : "Offboarding needs sync (secrets.shadowPasswordKey)."} />
      <form method="get" action="/admin/people" class="card">
        <label for="person">Person (username@source or identity id)</label>
        <input id="person" name="person" required value={target?.id ?? ""} />
        <button type="submit">Show</button>
      </form>
      {report ? <Report report={report} /> : null}
      {target ? (
        <section class="card" aria-label="Person">
          <h2>{target.username || target.id}</h2>
          <p class="muted">{target.id}</p>
          <p>
            {entry ? (
              <span class="state-bad">{`offboarded (${entry.cause}) at ${when(entry.at)}: ${entry.reason}`}</span>
            ) : (
              <span class="state-ok">active</span>
            )}
          </p>
          <h3>Sessions</h3>
          {sessions.length === 0 ? <p class="muted">none active</p> : null}
          <ul>
            {[
              ...sessions.map((s) => ({ sid: s.sid, text: sessionText(s) })),
              ...(sessions.length > 1 ? [{ sid: "all", text: "every session" }] : []),
            ].map((s) => (
              <li>
                <PostButton
                  action="/admin/people/sessions/end"
                  csrf={user.csrf}
                  fields={{ person: target.id, sid: s.sid }}
                  label="End"
                  kind="secondary"
                  formClass="inline"
                >
                  {s.text}{" "}
                </PostButton>
              </li>
            ))}
          </ul>
          <h3>Application credentials</h3>
          {credentials.length === 0 ? <p class="muted">none</p> : null}
          <ul>
            {credentials.map((r) => (
              <li>
                <PostButton
                  action="/admin/people/app-credentials/revoke"
                  csrf={user.csrf}
                  fields={{ person: target.id, id: r.id }}
                  label="Revoke"
                  kind="secondary"
                  formClass="inline"
                >
                  {`${r.name} in ${r.project} (made ${when(r.createdAt)}) `}
                </PostButton>
              </li>
            ))}
          </ul>
          <h3>Second factors</h3>
          {factors.length === 0 ? <p class="muted">none</p> : null}
          <ul aria-label="Second factors">
            {factors.map((f) => (
              <li>{`${f.kind}: ${f.label}${f.remaining !== undefined ? ` (${f.remaining} left)` : ""}`}</li>
            ))}
          </ul>
          {factors.length > 0 ? (
            <PostButton
              action="/admin/people/mfa/reset"
              csrf={user.csrf}
              fields={{ person: target.id }}
              label="Reset second factors"
              kind="danger"
            />
          ) : null}
          {waiting.length > 0 ? <h3>Waiting for clouds that were down</h3> : null}
          <ul>
            {waiting.map((e) => (
              <li>{`${e.cloudId}: ${e.action}, ${e.attempts} attempts: ${e.lastError}`}</li>
            ))}
          </ul>
          <form method="post" action={entry ? "/admin/people/undo" : "/admin/people/offboard"}>
            <CsrfField token={user.csrf} />
            <input type="hidden" name="person" value={target.id} />
            <label for="reason">Reason</label>
            <input id="reason" name="reason" />
            <label>
              <input type="checkbox" name="confirm" value="yes" required />{" "}
              {entry ? "Let this person back in every cloud" : "Cut this person off everywhere now"}
            </label>
            <button type="submit" class={entry ? "" : "danger"}>
              {entry ? "Undo offboarding" : "Offboard now"}
            </button>
          </form>
        </section>
      ) : null}
      <h2>Offboarded now</h2>
      {offboarded.size === 0 ? <p class="muted">nobody</p> : null}
      <ul>
        {[...offboarded].map(([id, e]) => (
          <li>
            <a href={`/admin/people?person=${encodeURIComponent(id)}`}>{e.username || id}</a>
            {` ${e.cause} at ${when(e.at)}`}
          </li>
        ))}
      </ul>
    </Layout>,
  );
}

function sessionText(s: Session): string {
  const what = s.kind === "offline" ? `offline grant of ${s.clientId ?? "a client"}` : `login (${s.amr.join(", ")})`;
  return `${what}, since ${when(new Date(s.createdAt).toISOString())}, last seen ${when(new Date(s.lastSeen).toISOString())}`;
}
