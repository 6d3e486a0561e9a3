import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { OffboardReport, Person } from "../../offboard/index.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, Notice, renderPage, when } from "./layout.js";
import { person, readForm, requireAdmin, requirePage, type WebContext, type WebEnv } from "./security.js";

const PersonRef = z.string().trim().min(1).max(300);
const ActionForm = z.object({
  person: PersonRef,
  confirm: z.literal("yes", { error: "tick the box to confirm" }),
  reason: z.string().trim().max(300).optional(),
});

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
          <h3>Application credentials</h3>
          {credentials.length === 0 ? <p class="muted">none</p> : null}
          <ul>
            {credentials.map((r) => (
              <li>{`${r.name} in ${r.project} (made ${when(r.createdAt)})`}</li>
            ))}
          </ul>
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
