import { Hono } from "hono";
import { z } from "zod";
import type { Explanation } from "../../policy/index.js";
import { auditEvents, explainPerson } from "./admin-data.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, Notice, renderPage } from "./layout.js";
import { parseFields, readForm, requireAdmin, requirePage, type WebContext, type WebEnv } from "./security.js";

const Filter = z.object({
  type: z.string().max(100).optional(),
  actor: z.string().max(256).optional(),
  cloud: z.string().max(100).optional(),
  text: z.string().max(256).optional(),
});
const ExplainForm = z.object({
  username: z.string().trim().min(1, "enter a username").max(256),
  source: z.string().max(100).optional(),
  cloud: z.string().max(100).optional(),
});

/** Who an event names, linked to their person page (`web:` and `api:` say how an administrator acted). */
const PersonLink = ({ who }: { who: unknown }) => {
  if (typeof who !== "string" || who === "") return null;
  const ref = who.replace(/^(web|api|cli):/, "");
  return <a href={`/admin/people?person=${encodeURIComponent(ref)}`}>{who}</a>;
};

/** Fields an audit row shows in its own columns; the rest goes to "details". */
const COLUMNS = new Set(["at", "type", "actor", "cloud"]);

const ExplainResult = ({ e }: { e: Explanation }) => (
  <section aria-label="Explanation" class="card">
    <h2>
      {e.identity.username} <span class="muted">({e.identity.source})</span>
    </h2>
    <p>
      Groups:{" "}
      {e.identity.groups.map((g) => (
        <span class="pill">{g}</span>
      ))}
    </p>
    <h3>Access</h3>
    {Object.keys(e.access).length === 0 ? <p>No access anywhere.</p> : null}
    <ul>
      {Object.entries(e.access).map(([cloudId, a]) => (
        <li>
          <strong>{cloudId}</strong>:{" "}
          {a.assignments.map((x) => `${x.project} (${x.role}) ← ${x.policies.join(", ")}`).join("; ") || "no roles"}
          {a.keys.length > 0 ? `; ${a.keys.length} SSH key(s)` : ""}
        </li>
      ))}
    </ul>
    <h3>Policies</h3>
    <table>
      <thead>
        <tr>
          <th scope="col">Policy</th>
          <th scope="col">Matched</th>
          <th scope="col">Why not</th>
        </tr>
      </thead>
      <tbody>
        {e.policies.map((p) => (
          <tr>
            <td>
              {p.name} <span class="muted">({p.effect})</span>
            </td>
            <td>{p.matched ? <span class="state-ok">yes</span> : "no"}</td>
            <td class="muted">{p.reason ?? ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </section>
);

/** `/admin/audit` (filterable, read-only GET form) and `/admin/explain` (a POST form: it queries the directory). */
export function adminAuditRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin/audit", requirePage(deps), requireAdmin(deps));
  app.use("/admin/explain", requirePage(deps), requireAdmin(deps));

  app.get("/admin/audit", async (c) => {
    const filter = parseFields(c.req.query(), Filter);
    const events = await auditEvents(deps, filter);
    const field = (name: keyof typeof filter, label: string) => (
      <div>
        <label for={`f-${name}`}>{label}</label>
        <input id={`f-${name}`} type="text" name={name} value={filter[name] ?? ""} />
      </div>
    );
    return renderPage(
      c,
      <Layout title="Audit log" user={pageUser(deps, c)} current="admin">
        <form method="get" action="/admin/audit" class="filters" aria-label="Filter the audit log">
          {field("type", "Event type")}
          {field("actor", "Who")}
          {field("cloud", "Cloud")}
          {field("text", "Any text (policy, project)")}
          <button type="submit">Filter</button>
        </form>
        <p class="muted">{events.length} event(s), newest first.</p>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Who</th>
                <th scope="col">Cloud</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr>
                  <td class="nowrap">
                    {typeof e.data.at === "string" ? e.data.at.slice(0, 19).replace("T", " ") : ""}
                  </td>
                  <td>{String(e.data.type ?? "")}</td>
                  <td>
                    <PersonLink who={e.data.actor} />
                    {typeof e.data.person === "string" && e.data.person !== e.data.actor ? (
                      <div>
                        <PersonLink who={e.data.person} />
                      </div>
                    ) : null}
                  </td>
                  <td>{String(e.data.cloud ?? "")}</td>
                  <td class="mono">
                    {JSON.stringify(Object.fromEntries(Object.entries(e.data).filter(([k]) => !COLUMNS.has(k))))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Layout>,
    );
  });

  const explainPage = async (c: WebContext, result?: { e: Explanation | null; username: string }) => {
    const user = pageUser(deps, c);
    return renderPage(
      c,
      <Layout title="Explain access" user={user} current="admin">
        <form method="post" action="/admin/explain" class="card">
          <CsrfField token={user.csrf} />
          <label for="x-username">Username</label>
          <input id="x-username" type="text" name="username" required value={result?.username ?? ""} />
          <label for="x-source">Identity source</label>
          <select id="x-source" name="source">
            <option value="">any</option>
            {deps.lookupSources.map((s) => (
              <option value={s.id}>{s.id}</option>
            ))}
          </select>
          <label for="x-cloud">Only this cloud (optional)</label>
          <input id="x-cloud" type="text" name="cloud" />
          <button type="submit">Explain</button>
        </form>
        {result && !result.e ? <Notice kind="error" text={`No source knows '${result.username}'.`} /> : null}
        {result?.e ? <ExplainResult e={result.e} /> : null}
      </Layout>,
    );
  };

  app.get("/admin/explain", (c) => explainPage(c));
  app.post("/admin/explain", async (c) => {
    const form = await readForm(c, deps, ExplainForm);
    const e = await explainPerson(deps, form.username, {
      source: form.source || undefined,
      cloudId: form.cloud || undefined,
    });
    return explainPage(c, { e, username: form.username });
  });
  return app;
}
