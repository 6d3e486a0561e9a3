import type { OffboardedEntry as OffboardEntry } from "../../identity/index.js";
import type { OffboardReport, Person } from "../../offboard/index.js";
import { AdminOnly, CsrfField, type PageUser, when } from "./layout.js";

/** What offboarding reported, cloud by cloud. */
export const Report = ({ report }: { report: OffboardReport }) => (
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

/** The person's offboarding state, what waits for clouds that were down, and the kill switch (or its undo). */
export const OffboardSection = (props: {
  user: PageUser;
  target: Person;
  entry?: OffboardEntry;
  waiting: { cloudId: string; action: string; attempts: number; lastError: string }[];
}) => {
  const { user, target, entry, waiting } = props;
  return (
    <section aria-label="Offboarding">
      <h3>Offboarding</h3>
      <p>
        {entry ? (
          <span class="state-bad">{`offboarded (${entry.cause}) at ${when(entry.at)}: ${entry.reason}`}</span>
        ) : (
          <span class="state-ok">active</span>
        )}
      </p>
      {waiting.length > 0 ? <h4>Waiting for clouds that were down</h4> : null}
      <ul>
        {waiting.map((e) => (
          <li>{`${e.cloudId}: ${e.action}, ${e.attempts} attempts: ${e.lastError}`}</li>
        ))}
      </ul>
      <AdminOnly user={user}>
        <form method="post" action={entry ? "/admin/people/undo" : "/admin/people/offboard"}>
          <CsrfField token={user.csrf} />
          <input type="hidden" name="person" value={target.id} />
          <label for="reason">Reason</label>
          <input id="reason" name="reason" type="text" />
          <label>
            <input type="checkbox" name="confirm" value="yes" required />{" "}
            {entry ? "Let this person back in every cloud" : "Cut this person off everywhere now"}
          </label>
          <button type="submit" class={entry ? "" : "danger"}>
            {entry ? "Undo offboarding" : "Offboard now"}
          </button>
        </form>
      </AdminOnly>
    </section>
  );
};

/** Everyone offboarded now, linked to their page. */
export const OffboardedList = ({ offboarded }: { offboarded: Map<string, OffboardEntry> }) => (
  <>
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
  </>
);
