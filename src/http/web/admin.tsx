import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import { applyReviewedPlan, type CloudHealth, fleetOverview, reviewPlan, savedPlanView } from "./admin-data.js";
import { FLEET_STATES, type FleetQuery, FleetQuerySchema, type FleetView, fleetState } from "./admin-fleet.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { AdminOnly, CsrfField, Layout, Notice, renderPage, when } from "./layout.js";
import { PlanSummaryView } from "./plan-page.js";
import { person, readForm, requireAdmin, requirePage, type WebEnv } from "./security.js";
import { filteredHref, Pager, SelectFilter } from "./widgets.js";

const PlanId = z.string().regex(/^[\w.:-]{1,100}$/, { error: "no plan to apply: review the plan first" });
const ApplyForm = z.object({
  confirm: z.literal("yes", { error: "tick the box to confirm that you reviewed the plan" }),
  planId: PlanId,
});

const STATE_TEXT = { ok: "ok", failing: "failing", degraded: "degraded", refused: "refused", never: "never" } as const;

const HealthTable = ({ clouds }: { clouds: CloudHealth[] }) => (
  <div class="scroll">
    <table class="compact">
      <thead>
        <tr>
          <th scope="col">Cloud</th>
          <th scope="col">Keystone</th>
          <th scope="col">Last sync</th>
          <th scope="col">Drift at last run</th>
        </tr>
      </thead>
      <tbody>
        {clouds.map((c) => {
          const drift = Object.entries(c.status?.drift ?? {}).filter(([, n]) => n > 0);
          return (
            <tr data-cloud={c.cloudId}>
              <th scope="row">
                {c.name} <span class="muted">({c.mode})</span>
              </th>
              <td>
                {c.reachable ? <span class="state-ok">reachable</span> : <span class="state-bad">unreachable</span>}
                {c.detail ? <div class="muted">{c.detail}</div> : null}
              </td>
              <td>
                <span class={`state-${STATE_CLASS[fleetState(c.status)]}`} data-state={fleetState(c.status)}>
                  {STATE_TEXT[fleetState(c.status)]}
                </span>
                <div class="muted">success: {when(c.status?.lastSuccessAt)}</div>
                {c.status?.lastError ? <div class="muted">{c.status.lastError}</div> : null}
              </td>
              <td>
                {drift.length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  drift.map(([action, n]) => <span class="pill">{`${action}: ${n}`}</span>)
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  </div>
);

const STATE_CLASS = { ok: "ok", failing: "warn", degraded: "bad", refused: "bad", never: "none" } as const;

/** The fleet at a glance: counts by state and a grid of every matching cloud, one coloured cell each. */
const FleetSummary = ({ view, query }: { view: FleetView; query: FleetQuery }) => (
  <section aria-label="Fleet">
    <p>
      <strong>{view.total}</strong> clouds:{" "}
      {FLEET_STATES.map((s) => (
        <a class={`pill cell-${STATE_CLASS[s]}-text`} href={`/admin?state=${s}`} data-count={s}>
          {`${s} ${view.counts[s]}`}
        </a>
      ))}
    </p>
    <form method="get" action="/admin" class="filters" aria-label="Filter the clouds">
      <div>
        <label for="f-name">Name</label>
        <input id="f-name" type="text" name="name" value={query.name ?? ""} />
      </div>
      <div>
        <label for="f-label">Label (key=value)</label>
        <input id="f-label" type="text" name="label" value={query.label ?? ""} placeholder="kind=edge" />
      </div>
      <SelectFilter id="f-state" name="state" label="State" value={query.state} options={FLEET_STATES} />
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
    <p class="muted">{`${view.matching.length} matching`}</p>
    <ul class="fleet" aria-label="Every matching cloud, coloured by state">
      {view.matching.map((c) => (
        <li>
          <a
            class={`cell cell-${STATE_CLASS[c.state]}`}
            href={`/admin?name=${encodeURIComponent(c.cloud.id)}`}
            title={`${c.cloud.id}: ${c.state}`}
            data-state={c.state}
          >
            <span class="sr">{`${c.cloud.id}: ${c.state}`}</span>
          </a>
        </li>
      ))}
    </ul>
  </section>
);

/** A page of the fleet list, keeping its filters. */
function fleetPage(query: FleetQuery, page: number): string {
  const { name, label, state } = query;
  return filteredHref("/admin", { name, label, state, page: String(page) });
}

/** `/admin`: cloud health, the sync plan with a confirmed apply, links to the audit log and policy explain. */
export function adminRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin", requirePage(deps), requireAdmin(deps));
  app.use("/admin/*", requirePage(deps), requireAdmin(deps));

  app.get("/admin", async (c) => {
    const query = FleetQuerySchema.parse(c.req.query());
    const fleet = await fleetOverview(deps, query);
    const applied = c.req.query("applied");
    return renderPage(
      c,
      <Layout title="Operations" user={pageUser(deps, c)} current="admin">
        <Notice
          kind="ok"
          text={applied ? `Sync run ${applied} finished; see the audit log for each change.` : undefined}
        />
        <nav aria-label="Admin sections">
          <a href="/admin/plan">Sync plan</a> · <a href="/admin/history">Sync history</a> ·{" "}
          <a href="/admin/audit">Audit log</a> · <a href="/admin/explain">Explain a person's access</a> ·{" "}
          <a href="/admin/lockouts">Sign-in lockouts</a> · <a href="/admin/sessions">Sessions</a> ·{" "}
          <a href="/admin/people">People and offboarding</a> · <a href="/admin/quotas">Quotas</a> ·{" "}
          <a href="/admin/images">Images</a>
        </nav>
        <h2>Clouds</h2>
        <FleetSummary view={fleet} query={query} />
        <HealthTable clouds={fleet.health} />
        <Pager pageNumber={fleet.pageNumber} pages={fleet.pages} href={(page) => fleetPage(query, page)} />
      </Layout>,
    );
  });

  // `?id=` shows a plan saved earlier (by this page, the API or `archway sync plan`) as it was made; without it a
  // fresh plan is computed and saved. Either way "Apply" applies the plan shown, by its id.
  app.get("/admin/plan", async (c) => {
    const user = pageUser(deps, c);
    const id = PlanId.safeParse(c.req.query("id"));
    const plan = id.success ? await savedPlanView(deps, id.data) : await reviewPlan(deps);
    if (!plan)
      throw new ArchwayError("sync_plan_expired", "this plan is not known (plans are kept a day): review again", 404);
    return renderPage(
      c,
      <Layout title="Sync plan" user={user} current="admin">
        <p>
          {id.success ? "A saved plan" : "What a sync run would change now"}
          {plan.createdAt ? `, made ${when(plan.createdAt)}` : ""}: <code>{plan.planId}</code>. Nothing has been changed
          yet.
        </p>
        <PlanSummaryView plan={plan} />
        <AdminOnly user={user}>
          <form method="post" action="/admin/sync/apply" class="card">
            <CsrfField token={user.csrf} />
            <input type="hidden" name="planId" value={plan.planId} />
            <h2>Apply</h2>
            <p>
              Applying applies exactly this plan (<code>{plan.planId}</code>): a cloud that changed since it was made is
              refused, untouched. Deletions stay bounded by maxDeletesPerRun.
            </p>
            <label>
              <input type="checkbox" name="confirm" value="yes" required /> I reviewed this plan and want to apply it
            </label>
            <button type="submit" class="danger">
              Apply the plan
            </button>
          </form>
        </AdminOnly>
      </Layout>,
    );
  });

  app.post("/admin/sync/apply", async (c) => {
    const { planId } = await readForm(c, deps, ApplyForm);
    const actor = person(c).identity.username;
    await deps.audit({ type: "sync.requested", actor, via: "web", planId });
    const run = await applyReviewedPlan(deps, planId);
    await deps.audit({
      type: "sync.run",
      actor,
      runId: run.runId,
      outcomes: Object.fromEntries(run.results.map((r) => [r.cloudId, r.outcome])),
    });
    return c.redirect(`/admin?applied=${encodeURIComponent(run.runId)}`, 303);
  });
  return app;
}
