import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { Session } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { AdminOnly, CsrfField, Layout, Notice, PostButton, renderPage } from "./layout.js";
import {
  parseFields,
  person,
  readForm,
  requireAdmin,
  requireApi,
  requirePage,
  type WebContext,
  type WebEnv,
} from "./security.js";

const Sid = z.object({ sid: z.uuid() });
const Person = z.object({ person: z.string().min(1).max(512) });

/** Paths of the session forms (the home page lists them; the API lives under /api/v1). */
export const SESSION_PATHS = ["/sessions/*"];

/** A session as pages and the API show it: never its identity's details beyond what the viewer knows. */
export function sessionView(s: Session, current?: string) {
  return {
    sid: s.sid,
    kind: s.kind,
    personId: s.personId,
    source: s.source,
    amr: s.amr,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeen: new Date(s.lastSeen).toISOString(),
    absoluteEnd: new Date(s.absoluteEnd).toISOString(),
    ...(s.clientId ? { clientId: s.clientId, scope: s.scope ?? [] } : {}),
    current: s.sid === current,
  };
}
type SessionView = ReturnType<typeof sessionView>;

/**
 * A table of sessions with one "end" form each: sign-ins (this browser marked) and offline access granted to
 * applications (`offline_access` refresh tokens, which outlive sign-out by design until revoked here).
 */
export const SessionsTable = (props: { sessions: SessionView[]; csrf: string; action: string; readOnly?: boolean }) => (
  <div class="scroll">
    <table>
      <thead>
        <tr>
          <th scope="col">Kind</th>
          <th scope="col">Started</th>
          <th scope="col">Ends at the latest</th>
          <th scope="col">
            <span class="muted">Action</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.sessions.map((s) => (
          <tr data-sid={s.sid}>
            <th scope="row">
              {s.kind === "offline" ? `Offline access for ${s.clientId ?? "an application"}` : `Sign-in (${s.source})`}
              {s.current ? <span class="pill">this browser</span> : null}
              {s.scope ? <div class="muted">{s.scope.join(" ")}</div> : null}
            </th>
            <td>{s.createdAt}</td>
            <td>{s.absoluteEnd}</td>
            <td>
              {props.readOnly ? null : (
                <PostButton
                  action={props.action}
                  csrf={props.csrf}
                  fields={{ sid: s.sid }}
                  label={s.kind === "offline" ? "Revoke" : "End"}
                  kind="danger"
                />
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </div>
);

/** The signed-in person's sessions, for the home page. */
export async function mySessions(deps: WebDeps, c: WebContext): Promise<SessionView[]> {
  const current = (await deps.sessions.read(c))?.sid;
  return (await deps.tokenSessions.listFor(person(c).identity.id)).map((s) => sessionView(s, current));
}

/**
 * Ending sessions: a person their own (`/sessions/end`, `DELETE /api/v1/me/sessions/{sid}`), an administrator
 * anyone's (`/admin/sessions`, `/api/v1/admin/sessions`). Ending one revokes every token and grant made under it
 * and purges the broker's cached Keystone tokens of the person.
 */
export function sessionRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/sessions/*", requirePage(deps));
  app.use("/admin/sessions", requirePage(deps), requireAdmin(deps));
  app.use("/admin/sessions/*", requirePage(deps), requireAdmin(deps));
  app.use("/api/v1/me/sessions", requireApi(deps));
  app.use("/api/v1/me/sessions/*", requireApi(deps));
  app.use("/api/v1/admin/sessions", requireApi(deps), requireAdmin(deps));
  app.use("/api/v1/admin/sessions/*", requireApi(deps), requireAdmin(deps));

  /** Ends `sid` when it belongs to `personId` (or anyone's, for an administrator). */
  const endOne = async (c: WebContext, sid: string, owner: string | undefined, reason: string) => {
    if (owner !== undefined && !(await deps.tokenSessions.listFor(owner)).some((s) => s.sid === sid))
      throw new ArchwayError("not_found", "you have no such session", 404);
    if (!(await deps.tokenSessions.end(sid, reason))) throw new ArchwayError("not_found", "no such live session", 404);
    await deps.audit({ type: "session.end_requested", actor: person(c).identity.username, sid, reason });
  };

  app.post("/sessions/end", async (c) => {
    const { sid } = await readForm(c, deps, Sid);
    await endOne(c, sid, person(c).identity.id, "ended by the person");
    return c.redirect("/?ok=session_ended#sessions", 303);
  });
  app.get("/api/v1/me/sessions", async (c) => c.json({ sessions: await mySessions(deps, c) }));
  app.delete("/api/v1/me/sessions/:sid", async (c) => {
    const { sid } = parseFields(c.req.param(), Sid);
    await endOne(c, sid, person(c).identity.id, "ended by the person");
    return c.body(null, 204);
  });

  const adminPage = async (c: WebContext, personId: string | undefined, notice?: string) => {
    const user = pageUser(deps, c);
    const sessions = personId ? (await deps.tokenSessions.listFor(personId)).map((s) => sessionView(s)) : [];
    return renderPage(
      c,
      <Layout title="Sessions" user={user} current="admin">
        <Notice kind="ok" text={notice} />
        <form method="get" action="/admin/sessions" class="card">
          <label for="person">Person id (source:id, as the audit log names them)</label>
          <input id="person" name="person" value={personId ?? ""} required />
          <button type="submit">Show sessions</button>
        </form>
        {personId ? (
          <>
            <h2>Sessions of {personId}</h2>
            {sessions.length === 0 ? <p>No live session.</p> : null}
            <SessionsTable sessions={sessions} csrf={user.csrf} action="/admin/sessions/end" readOnly={user.readOnly} />
            <AdminOnly user={user}>
              <form method="post" action="/admin/sessions/end-all" class="card">
                <CsrfField token={user.csrf} />
                <input type="hidden" name="person" value={personId} />
                <button type="submit" class="danger">
                  End every session of {personId}
                </button>
              </form>
            </AdminOnly>
          </>
        ) : null}
      </Layout>,
    );
  };

  app.get("/admin/sessions", (c) => adminPage(c, c.req.query("person") || undefined, c.req.query("ended")));
  app.post("/admin/sessions/end", async (c) => {
    const { sid } = await readForm(c, deps, Sid);
    await endOne(c, sid, undefined, "ended by an administrator");
    return c.redirect(`/admin/sessions?ended=${encodeURIComponent("Session ended.")}`, 303);
  });
  app.post("/admin/sessions/end-all", async (c) => {
    const form = await readForm(c, deps, Person);
    const n = await deps.tokenSessions.endPerson(form.person, "ended by an administrator");
    await deps.audit({ type: "session.end_requested", actor: person(c).identity.username, person: form.person, n });
    const q = new URLSearchParams({ person: form.person, ended: `${n} session(s) ended.` });
    return c.redirect(`/admin/sessions?${q}`, 303);
  });
  app.get("/api/v1/admin/sessions", async (c) => {
    const { person: personId } = parseFields(c.req.query(), Person);
    return c.json({ sessions: (await deps.tokenSessions.listFor(personId)).map((s) => sessionView(s)) });
  });
  app.delete("/api/v1/admin/sessions/:sid", async (c) => {
    const { sid } = parseFields(c.req.param(), Sid);
    await endOne(c, sid, undefined, "ended by an administrator");
    return c.body(null, 204);
  });
  app.delete("/api/v1/admin/sessions", async (c) => {
    const { person: personId } = parseFields(c.req.query(), Person);
    const ended = await deps.tokenSessions.endPerson(personId, "ended by an administrator");
    await deps.audit({ type: "session.end_requested", actor: person(c).identity.username, person: personId, ended });
    return c.json({ ended });
  });
  return app;
}
