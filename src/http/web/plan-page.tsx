import type { PlanView } from "./admin-data.js";
import { type PlanSummary, SUMMARY_COLUMNS, type SummaryRow, summarisePlan } from "./plan-summary.js";

/** Plans up to this size open their groups: the whole plan is read at once. */
const OPEN_BELOW = 200;

const n = (value: number) => value.toLocaleString("en");

const Row = ({ row, label }: { row: SummaryRow; label?: string }) => (
  <tr data-plan-row={row.cloudId}>
    <th scope="row">
      {label ?? row.cloudId}
      {row.error ? <div class="state-bad">{row.error}</div> : null}
      {row.overDeleteLimit ? <div class="state-bad">over maxDeletesPerRun.perCloud: apply refuses it</div> : null}
    </th>
    {SUMMARY_COLUMNS.map((col) => (
      <td class="num">{row.counts[col] > 0 ? n(row.counts[col]) : <span class="muted">0</span>}</td>
    ))}
    <td class="num">{n(row.total)}</td>
    <td class="num">{row.problems > 0 ? <span class="state-warn">{n(row.problems)}</span> : ""}</td>
  </tr>
);

const SummaryTable = ({ rows, rest, totals }: { rows: SummaryRow[]; rest?: SummaryRow; totals?: SummaryRow }) => (
  <div class="scroll">
    <table class="compact">
      <thead>
        <tr>
          <th scope="col">Cloud</th>
          <th scope="col" class="num">
            Creates
          </th>
          <th scope="col" class="num">
            Updates
          </th>
          <th scope="col" class="num" title="revoke, disable and delete">
            Deletes
          </th>
          <th scope="col" class="num">
            Total
          </th>
          <th scope="col" class="num">
            Problems
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <Row row={row} />
        ))}
        {rest ? <Row row={rest} /> : null}
      </tbody>
      {totals ? (
        <tfoot>
          <Row row={totals} label="All clouds" />
        </tfoot>
      ) : null}
    </table>
  </div>
);

/**
 * The plan summarised per cloud and action: one line of totals, a table of the largest clouds (errors and refusals
 * first) with the rest folded into one row and listed in full under a `details`, then one collapsed group per
 * action, each cloud's operations in a collapsed group of its own. No script: `details` does the folding, so a plan
 * of thousands of operations fits a screen until the reviewer opens what they want to read.
 */
export const PlanSummaryView = ({ plan }: { plan: PlanView }) => {
  const s: PlanSummary = summarisePlan(plan);
  const open = plan.total <= OPEN_BELOW || undefined;
  const totals: SummaryRow = { cloudId: "all", counts: s.totals, total: s.total, problems: 0 };
  return (
    <section aria-label="Plan summary" data-plan-total={s.total}>
      <p>
        <strong>{n(s.total)}</strong> operation(s) in <strong>{n(s.changing.length)}</strong> cloud(s); {n(s.inSync)}{" "}
        cloud(s) in sync
        {s.unavailable > 0 ? <span class="state-bad">{`; ${s.unavailable} could not be read`}</span> : null}.
      </p>
      {s.overDeleteLimit.length > 0 ? (
        <p class="notice notice-error" role="alert">
          {`${s.overDeleteLimit.length} cloud(s) over maxDeletesPerRun.perCloud: applying refuses them (${s.overDeleteLimit.slice(0, 5).join(", ")}${s.overDeleteLimit.length > 5 ? ", ..." : ""}).`}
        </p>
      ) : null}
      {s.changing.length > 0 ? <SummaryTable rows={s.top} rest={s.rest} totals={totals} /> : null}
      {s.rest ? (
        <details class="plan-group">
          <summary>{`Every cloud of the plan (${n(s.changing.length)})`}</summary>
          <SummaryTable rows={s.changing} />
        </details>
      ) : null}
      <h3>By action</h3>
      {s.groups.length === 0 ? <p class="muted">Nothing to change.</p> : null}
      {s.groups.map((group) => (
        <details class="plan-group" data-plan-action={group.action} open={open}>
          <summary>
            <strong>{group.action}</strong>
            {` ${n(group.total)} operation(s) in ${n(group.clouds.length)} cloud(s)`}
          </summary>
          <div class="plan-clouds">
            {group.clouds.map((cloud) => (
              <details class="plan-cloud" data-plan-cloud={cloud.cloudId} open={open}>
                <summary>{`${cloud.cloudId}: ${n(cloud.count)}`}</summary>
                <ul class="ops">
                  {cloud.operations.map((op) => (
                    <li>
                      {op.text}
                      {op.policies.length > 0 ? <span class="muted"> ← {op.policies.join(", ")}</span> : null}
                    </li>
                  ))}
                </ul>
                {cloud.count > cloud.operations.length ? (
                  <p class="muted">
                    {`and ${n(cloud.count - cloud.operations.length)} more (all of them: archway sync plan --cloud ${cloud.cloudId})`}
                  </p>
                ) : null}
              </details>
            ))}
          </div>
        </details>
      ))}
      {plan.clouds.some((c) => c.problems.length > 0) ? (
        <details class="plan-group" open={open}>
          <summary>Problems</summary>
          <ul>
            {plan.clouds.flatMap((c) => c.problems.map((p) => <li class="state-warn">{`${c.cloudId}: ${p}`}</li>))}
          </ul>
        </details>
      ) : null}
      {plan.clouds.some((c) => c.orphans.length > 0) ? (
        <details class="plan-group" data-plan-orphans open={open}>
          <summary>Orphaned projects</summary>
          <p class="muted">
            Made by this deployment, granted by no policy any more. Kept; delete or hand them over by hand.
          </p>
          <ul>{plan.clouds.flatMap((c) => c.orphans.slice(0, 50).map((key) => <li>{`${c.cloudId}: ${key}`}</li>))}</ul>
        </details>
      ) : null}
    </section>
  );
};
