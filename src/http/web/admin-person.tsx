import type { OffboardedEntry } from "../../identity/index.js";
import type { OffboardReport, OffboardService, Person } from "../../offboard/index.js";
import { OffboardedList, OffboardSection, Report } from "./admin-offboard-view.js";
import { type PersonView, personView } from "./admin-person-data.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { AdminOnly, CsrfField, Layout, Notice, type PageUser, PostButton, renderPage, when } from "./layout.js";
import type { WebContext } from "./security.js";

const at = (ms: number) => when(new Date(ms).toISOString());

/** One line per lockout: a failure that crossed the limit of a name and of the person it leads to is one event. */
function dedupe(records: PersonView["lockouts"]): PersonView["lockouts"] {
  const seen = new Set<string>();
  return records.filter((r) => {
    const key = `${r.at}|${r.kind}|${r.scope}|${r.address ?? ""}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A confirmed action: a `details` that opens on a form whose checkbox must be ticked (no script). */
const Confirmed = (props: {
  user: PageUser;
  action: string;
  fields: Record<string, string>;
  label: string;
  confirm: string;
}) => (
  <AdminOnly user={props.user}>
    <details class="confirm">
      <summary>{props.label}</summary>
      <form method="post" action={props.action}>
        <CsrfField token={props.user.csrf} />
        {Object.entries(props.fields).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <label>
          <input type="checkbox" name="confirm" value="yes" required /> {props.confirm}
        </label>
        <button type="submit" class="danger">
          {props.label}
        </button>
      </form>
    </details>
  </AdminOnly>
);

const Sessions = ({ v, user }: { v: PersonView; user: PageUser }) => (
  <section aria-label="Sessions and tokens">
    <h3>Sessions and tokens</h3>
    <p data-tokens={`${v.tokens.login}/${v.tokens.offline}`}>
      {`${v.tokens.login} sign-in session(s) and ${v.tokens.offline} offline grant(s)`}
      {v.tokens.offlineClients.length > 0 ? ` (${v.tokens.offlineClients.join(", ")})` : ""}
      <span class="muted">
        {" "}
        · Archway keeps no list of tokens: every token, refresh token and brokered Keystone token hangs off one of these
        sessions and ends with it.
      </span>
    </p>
    {v.sessions.length === 0 ? <p class="muted">none active</p> : null}
    <div class="scroll" hidden={v.sessions.length === 0 || undefined}>
      <table class="compact">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Source</th>
            <th scope="col">Started</th>
            <th scope="col">Last seen</th>
            <th scope="col">Ends at the latest</th>
            <th scope="col">
              <span class="sr">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {v.sessions.map((s) => (
            <tr data-sid={s.sid}>
              <th scope="row">
                {s.kind === "offline" ? `offline grant of ${s.clientId ?? "a client"}` : `login (${s.amr.join(", ")})`}
              </th>
              <td>{s.source}</td>
              <td class="nowrap">{at(s.createdAt)}</td>
              <td class="nowrap">{at(s.lastSeen)}</td>
              <td class="nowrap">{at(s.absoluteEnd)}</td>
              <td>
                {user.readOnly ? null : (
                  <PostButton
                    action="/admin/people/sessions/end"
                    csrf={user.csrf}
                    fields={{ person: v.person.id, sid: s.sid }}
                    label={s.kind === "offline" ? "Revoke" : "End"}
                    kind="secondary"
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
    <AdminOnly user={user}>
      <div class="actions">
        {v.sessions.length > 0 ? (
          <PostButton
            action="/admin/people/sessions/end"
            csrf={user.csrf}
            fields={{ person: v.person.id, sid: "all" }}
            label="End every session"
            kind="danger"
            formClass="inline"
          />
        ) : null}{" "}
        <PostButton
          action="/admin/people/tokens/drop"
          csrf={user.csrf}
          fields={{ person: v.person.id }}
          label="Drop cached Keystone tokens"
          kind="secondary"
          formClass="inline"
        />
      </div>
    </AdminOnly>
  </section>
);

const Credentials = ({ v, user }: { v: PersonView; user: PageUser }) => (
  <section aria-label="Application credentials">
    <h3>Application credentials</h3>
    {v.credentials.length === 0 ? <p class="muted">none</p> : null}
    <ul>
      {v.credentials.map((r) => (
        <li data-credential={r.id}>
          {`${r.name} in ${r.project} (made ${when(r.createdAt)}, expires ${when(r.expiresAt)}) `}
          {user.readOnly ? null : (
            <PostButton
              action="/admin/people/app-credentials/revoke"
              csrf={user.csrf}
              fields={{ person: v.person.id, id: r.id }}
              label="Revoke"
              kind="secondary"
              formClass="inline"
            />
          )}
        </li>
      ))}
    </ul>
  </section>
);

const Factors = ({ v, user }: { v: PersonView; user: PageUser }) => (
  <section aria-label="Second factors">
    <h3>Second factors</h3>
    {v.factors.length === 0 ? <p class="muted">none</p> : null}
    <ul>
      {v.factors.map((f) => (
        <li data-factor={f.kind}>
          <strong>{f.kind}</strong> {f.label}
          <span class="muted">
            {` added ${at(f.createdAt)}`}
            {f.lastUsedAt !== undefined ? `, last used ${at(f.lastUsedAt)}` : ", never used"}
            {f.remaining !== undefined ? `, ${f.remaining} left` : ""}
          </span>
          <Confirmed
            user={user}
            action="/admin/people/mfa/remove"
            fields={{ person: v.person.id, id: f.id }}
            label="Remove"
            confirm={`Remove ${f.kind} "${f.label}" (a last factor takes the recovery codes with it)`}
          />
        </li>
      ))}
    </ul>
    {v.factors.length > 0 ? (
      <AdminOnly user={user}>
        <PostButton
          action="/admin/people/mfa/reset"
          csrf={user.csrf}
          fields={{ person: v.person.id }}
          label="Reset every second factor"
          kind="danger"
        />
      </AdminOnly>
    ) : null}
  </section>
);

const Lockouts = ({ v, user }: { v: PersonView; user: PageUser }) => (
  <section aria-label="Sign-in lockouts">
    <h3>Sign-in lockouts</h3>
    {v.lockouts.length === 0 ? <p class="muted">none recently</p> : null}
    <ul>
      {dedupe(v.lockouts)
        .slice(0, 20)
        .map((r) => (
          <li>{`${when(r.at)}: ${r.kind} ${r.scope === "user_address" ? `refused from ${r.address ?? "an address"}` : "slowed down"}`}</li>
        ))}
    </ul>
    <AdminOnly user={user}>
      <PostButton
        action="/admin/people/unlock"
        csrf={user.csrf}
        fields={{ person: v.person.id }}
        label="Unlock (clear every sign-in limit)"
        kind="secondary"
      />
    </AdminOnly>
  </section>
);

/**
 * `/admin/people`: the search box, and one person as an administrator sees them: sessions and what hangs off them,
 * application credentials, second factors (kinds, names, dates; never a secret), recent lockouts, offboarding; each
 * with its action (hidden from auditors, and refused to them by the server).
 */
export async function personPage(
  c: WebContext,
  deps: WebDeps,
  opts: { target?: Person; report?: OffboardReport; notice?: string; error?: string; query?: string } = {},
) {
  const user = pageUser(deps, c);
  const { target } = opts;
  const offboard = deps.offboard;
  const [view, offboarded, pending] = await Promise.all([
    target ? personView(deps, target) : undefined,
    offboard ? offboard.offboarder.offboarded.all() : new Map<string, OffboardedEntry>(),
    offboard
      ? offboard.offboarder.pending.all()
      : ({} as Awaited<ReturnType<OffboardService["offboarder"]["pending"]["all"]>>),
  ]);
  const waiting = target
    ? Object.entries(pending).flatMap(([cloudId, people]) => {
        const e = people[target.id];
        return e ? [{ cloudId, ...e }] : [];
      })
    : [];
  return renderPage(
    c,
    <Layout title="People" user={user} current="admin">
      <Notice kind="ok" text={opts.notice} />
      <Notice kind="error" text={opts.error} />
      <form method="get" action="/admin/people" class="card filters" aria-label="Find a person">
        <div>
          <label for="person">Username or identity id</label>
          <input id="person" name="person" type="text" class="wide" required value={opts.query ?? target?.id ?? ""} />
        </div>
        <button type="submit">Show</button>
      </form>
      {opts.report ? <Report report={opts.report} /> : null}
      {view && target ? (
        <section class="card" aria-label="Person" data-person={target.id}>
          <h2>{view.person.username || target.id}</h2>
          <p class="muted">
            <code>{target.id}</code> ·{" "}
            <a href={`/admin/audit?text=${encodeURIComponent(view.person.username || target.id)}`}>audit events</a>
          </p>
          <Sessions v={view} user={user} />
          <Credentials v={view} user={user} />
          <Factors v={view} user={user} />
          <Lockouts v={view} user={user} />
          <OffboardSection user={user} target={target} entry={offboarded.get(target.id)} waiting={waiting} />
        </section>
      ) : null}
      <OffboardedList offboarded={offboarded} />
    </Layout>,
    opts.error ? 404 : 200,
  );
}
