import { Hono } from "hono";
import { ArchwayError } from "../../errors.js";
import type { QuotaUsage, QuotaUsageEntry } from "../../openstack/index.js";
import { QUOTA_RESOURCES, QUOTA_SERVICES, type QuotaService } from "../../policy/index.js";
import { reportCloud } from "../../quota/index.js";
import {
  filteredReport,
  type ProjectQuotas,
  QUOTA_REPORT_MAX_AGE_MS,
  type QuotaQuery,
  QuotaQuerySchema,
  QuotaReports,
  type QuotaView,
  quotaView,
} from "./admin-quotas-data.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { Layout, renderPage } from "./layout.js";
import { requireAdmin, requireApi, requirePage, type WebEnv } from "./security.js";
import { filteredHref, Pager, SuggestInput } from "./widgets.js";

const SERVICE_TEXT: Record<QuotaService, string> = {
  compute: "Compute (Nova)",
  volume: "Volume (Cinder)",
  network: "Network (Neutron)",
};

const limitText = (limit: number) => (limit < 0 ? "unlimited" : limit.toLocaleString("en"));

/** One resource's cell: "in use / limit", with the numbers as data attributes for scripts and tests. */
const UsageCell = ({ entry, resource }: { entry: QuotaUsageEntry | undefined; resource: string }) =>
  entry ? (
    <td class="num nowrap" data-resource={resource} data-limit={entry.limit} data-in-use={entry.inUse}>
      {`${entry.inUse.toLocaleString("en")} / ${limitText(entry.limit)}`}
    </td>
  ) : (
    <td class="num muted" data-resource={resource}>
      -
    </td>
  );

/** The resources of a service that any of `usages` has, in the order of the policy schema. */
function columnsOf(service: QuotaService, usages: readonly QuotaUsage[]): string[] {
  return QUOTA_RESOURCES[service].filter((r) => usages.some((u) => u[r] !== undefined));
}

/** One service of one project: a row per cloud and the total across them. */
const ServiceTable = ({ project, service }: { project: ProjectQuotas; service: QuotaService }) => {
  const rows = project.rows[service];
  const columns = columnsOf(service, [
    project.totals[service],
    ...rows.flatMap((r) => (r.report.status === "ok" ? [r.report.resources] : [])),
  ]);
  return (
    <div class="scroll">
      <table class="compact" data-service={service}>
        <caption class="muted">{SERVICE_TEXT[service]}</caption>
        <thead>
          <tr>
            <th scope="col">Cloud</th>
            {columns.map((r) => (
              <th scope="col" class="num">
                {r}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr data-cloud={row.cloud} data-status={row.report.status}>
              <th scope="row" class="nowrap">
                {row.cloud}
              </th>
              {row.report.status === "ok" ? (
                columns.map((r) => (
                  <UsageCell entry={row.report.status === "ok" ? row.report.resources[r] : undefined} resource={r} />
                ))
              ) : (
                <td colspan={Math.max(1, columns.length)} class="state-bad">
                  {`unavailable: ${row.report.error}`}
                </td>
              )}
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr data-total="project">
            <th
              scope="row"
              class="nowrap"
            >{`Total (${project.clouds.length} cloud${project.clouds.length === 1 ? "" : "s"})`}</th>
            {columns.map((r) => (
              <UsageCell entry={project.totals[service][r]} resource={r} />
            ))}
          </tr>
        </tfoot>
      </table>
    </div>
  );
};

/** Totals over every matching project of every cloud that answered. */
const TotalsTable = ({ view }: { view: QuotaView }) => (
  <div class="scroll">
    <table class="compact" aria-label="Totals across clouds">
      <thead>
        <tr>
          <th scope="col">Service</th>
          <th scope="col">Resource</th>
          <th scope="col" class="num">
            In use / limit
          </th>
        </tr>
      </thead>
      <tbody>
        {QUOTA_SERVICES.flatMap((service) =>
          columnsOf(service, [view.totals[service]]).map((r) => (
            <tr data-total="all" data-service={service}>
              <td>{service}</td>
              <th scope="row">{r}</th>
              <UsageCell entry={view.totals[service][r]} resource={r} />
            </tr>
          )),
        )}
      </tbody>
    </table>
  </div>
);

const Filters = ({ query, clouds }: { query: QuotaQuery; clouds: readonly string[] }) => (
  <form method="get" action="/admin/quotas" class="filters" aria-label="Filter the quotas">
    <SuggestInput id="q-cloud" name="cloud" label="Cloud" value={query.cloud} options={clouds} />
    <div>
      <label for="q-project">Project name</label>
      <input id="q-project" type="text" name="project" value={query.project ?? ""} />
    </div>
    <button type="submit" class="secondary">
      Filter
    </button>
  </form>
);

function link(query: QuotaQuery, changes: Partial<Record<"page" | "refresh", string>>): string {
  return filteredHref("/admin/quotas", { cloud: query.cloud, project: query.project, ...changes });
}

/** Clouds that could not be read: named with the reason, never failing the page. */
const Unavailable = ({ view }: { view: QuotaView }) =>
  view.unavailable.length === 0 ? null : (
    <details class="card" open={view.unavailable.length <= 10} aria-label="Unavailable clouds">
      <summary class="state-bad">{`${view.unavailable.length} cloud(s) unavailable: their quotas are not counted`}</summary>
      <ul>
        {view.unavailable.map((c) => (
          <li data-cloud={c.cloud} data-status="unavailable">
            <strong>{c.cloud}</strong> <span class="muted">{c.error ?? "unavailable"}</span>
          </li>
        ))}
      </ul>
    </details>
  );

/**
 * `/admin/quotas`: limits and usage of every Archway-owned project per cloud, grouped by project across clouds, with
 * totals; the same report as `archway quota report`, and as JSON at `/api/v1/admin/quotas` (same filters). Read
 * from the clouds at most once a minute per process (see {@link QuotaReports}).
 */
export function adminQuotaRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  const clients = () => {
    if (!deps.sync)
      throw new ArchwayError("sync_unavailable", "reading quotas needs sync (secrets.shadowPasswordKey)", 503);
    return deps.sync.clients;
  };
  const reports = new QuotaReports({ clouds: () => deps.clouds, readCloud: (cloud) => reportCloud(clients()(cloud)) });
  // Without sync's clients there is nothing to read with: a 503 that says why, before any read is attempted.
  const readQuotas = (refresh: boolean) => {
    clients();
    return reports.read({ refresh });
  };
  app.use("/admin/quotas", requirePage(deps), requireAdmin(deps));
  app.use("/api/v1/admin/quotas", requireApi(deps), requireAdmin(deps));

  app.get("/admin/quotas", async (c) => {
    const query = QuotaQuerySchema.parse(c.req.query());
    const read = await readQuotas(query.refresh === "1");
    const view = quotaView(read.clouds, query);
    const ids = deps.clouds.map((cl) => cl.id);
    const readAt = new Date(read.readAt).toISOString();
    return renderPage(
      c,
      <Layout title="Quotas" user={pageUser(deps, c)} current="admin">
        <p>
          {`Limits and usage of Archway's projects in ${view.report.clouds.length} cloud(s), read at ${readAt.slice(11, 19)} UTC`}
          <span class="muted">{` (kept ${QUOTA_REPORT_MAX_AGE_MS / 1000} s). `}</span>
          <a href={link(query, { refresh: "1" })}>Read again</a> ·{" "}
          <a href={`/api/v1/admin/quotas${query.cloud ? `?cloud=${encodeURIComponent(query.cloud)}` : ""}`}>JSON</a>
        </p>
        <Filters query={query} clouds={ids} />
        <Unavailable view={view} />
        <h2>Totals across clouds</h2>
        <p class="muted">{`${view.matching} project(s)${query.project ? " matching" : ""}; -1 in a cloud makes a total unlimited`}</p>
        <TotalsTable view={view} />
        <h2>Per project</h2>
        {view.page.length === 0 ? <p class="muted">No Archway-owned project here.</p> : null}
        {view.page.map((p) => (
          <section class="card" aria-label={`${p.domain} / ${p.name}`} data-project={p.name} data-domain={p.domain}>
            <h3>
              {p.name} <span class="muted">{`in domain ${p.domain}, ${p.clouds.join(", ")}`}</span>
            </h3>
            {QUOTA_SERVICES.map((service) => (
              <ServiceTable project={p} service={service} />
            ))}
          </section>
        ))}
        <Pager pageNumber={view.pageNumber} pages={view.pages} href={(page) => link(query, { page: String(page) })} />
      </Layout>,
    );
  });

  // The JSON of `archway quota report --json` for the same clouds; when it was read goes in Last-Modified.
  app.get("/api/v1/admin/quotas", async (c) => {
    const query = QuotaQuerySchema.parse(c.req.query());
    const read = await readQuotas(query.refresh === "1");
    c.header("last-modified", new Date(read.readAt).toUTCString());
    return c.json(filteredReport(read.clouds, query));
  });

  return app;
}
