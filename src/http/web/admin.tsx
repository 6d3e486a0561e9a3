import { Hono } from "hono";
import { z } from "zod";
import { applyReviewedPlan, type CloudHealth, cloudHealth, type PlanView, reviewPlan } from "./admin-data.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, Notice, renderPage, when } from "./layout.js";
import { person, readForm, requireAdmin, requirePage, type WebEnv } from "./security.js";

const ApplyForm = z.object({
  confirm: z.literal("yes", { error: "tick the box to confirm that you reviewed the plan" }),
  planId: z.string().regex(/^[\w.:-]{1,100}$/, { error: "no plan to apply: review the plan first" }),
});

const HealthTable = ({ clouds }: { clouds: CloudHealth[] }) => (
  <div class="scroll">
    <table>
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
                {!c.status ? (
                  <span class="state-warn">never</span>
                ) : c.status.degraded ? (
                  <span class="state-bad">degraded</span>
                ) : (
                  <span class="state-ok">ok</span>
                )}
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

const PlanList = ({ plan }: { plan: PlanView }) => (
  <div>
    {plan.clouds.map((cloud) => (
      <section class="card" aria-label={`Plan for ${cloud.cloudId}`} data-plan-cloud={cloud.cloudId}>
        <h3>{cloud.cloudId}</h3>
        {cloud.error ? <p class="state-bad">{cloud.error}</p> : null}
        {!cloud.error && cloud.operations.length === 0 ? <p class="state-ok">in sync: nothing to do</p> : null}
        {cloud.overDeleteLimit ? (
          <p class="state-bad">Over maxDeletesPerRun.perCloud: applying will refuse this cloud.</p>
        ) : null}
        {cloud.operations.length > 0 ? (
          <ul>
            {cloud.operations.slice(0, 200).map((op) => (
              <li>
                <span class="pill">{op.action}</span> {op.text}
                {op.policies.length > 0 ? <span class="muted"> ← {op.policies.join(", ")}</span> : null}
              </li>
            ))}
          </ul>
        ) : null}
        {cloud.operations.length > 200 ? <p class="muted">and {cloud.operations.length - 200} more</p> : null}
        {cloud.problems.map((p) => (
          <p class="state-warn">{p}</p>
        ))}
      </section>
    ))}
  </div>
);

/** `/admin`: cloud health, the sync plan with a confirmed apply, links to the audit log and policy explain. */
export function adminRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/admin", requirePage(deps), requireAdmin(deps));
  app.use("/admin/*", requirePage(deps), requireAdmin(deps));

  app.get("/admin", async (c) => {
    const clouds = await cloudHealth(deps);
    const applied = c.req.query("applied");
    return renderPage(
      c,
      <Layout title="Operations" user={pageUser(deps, c)} current="admin">
        <Notice
          kind="ok"
          text={applied ? `Sync run ${applied} finished; see the audit log for each change.` : undefined}
        />
        <nav aria-label="Admin sections">
          <a href="/admin/plan">Sync plan</a> · <a href="/admin/audit">Audit log</a> ·{" "}
          <a href="/admin/explain">Explain a person's access</a> · <a href="/admin/lockouts">Sign-in lockouts</a> ·{" "}
          <a href="/admin/sessions">Sessions</a> · <a href="/admin/people">People and offboarding</a>
        </nav>
        <h2>Clouds</h2>
        <HealthTable clouds={clouds} />
      </Layout>,
    );
  });

  app.get("/admin/plan", async (c) => {
    const user = pageUser(deps, c);
    const plan = await reviewPlan(deps);
    return renderPage(
      c,
      <Layout title="Sync plan" user={user} current="admin">
        <p>
          What a sync run would change now: <strong>{plan.total}</strong> operation(s). Nothing has been changed yet.
        </p>
        <PlanList plan={plan} />
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
