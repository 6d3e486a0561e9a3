import { Hono } from "hono";
import { stringify } from "yaml";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { Identity } from "../../identity/index.js";
import { type SessionStrength, WITH_MFA } from "../../policy/index.js";
import {
  type CreatedAppCredential,
  entitledProjects,
  entitlementsOf,
  type FacadeProject,
  projectInCloud,
} from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";
import { pageUser } from "./home.js";
import { CsrfField, Layout, PostButton, renderPage, when } from "./layout.js";
import {
  parseFields,
  person,
  readForm,
  requireApi,
  requirePage,
  sessionStrength,
  type WebContext,
  type WebEnv,
} from "./security.js";

/** Days of validity asked for: a JSON number, or a form field's digits (empty: the maximum). */
const Days = z
  .union([z.number(), z.string().regex(/^\d{0,5}$/, "expected a number of days")])
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : Number(v)));
const Create = z.object({ project: z.string().min(1).max(200), days: Days });
const Revoke = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) });

/** Paths of the application credential routes (the page forms; the API lives under /api/v1). */
export const APP_CREDENTIAL_PATHS = ["/app-credentials", "/app-credentials/*"];

/** A clouds.yaml with one entry for a new application credential: straight to the cloud, Archway not in the path. */
export function appCredentialYaml(created: CreatedAppCredential): string {
  const name = `${created.record.project.replace(":", "-")}-appcred`;
  const entry = {
    auth_type: "v3applicationcredential",
    auth: {
      auth_url: created.authUrl,
      application_credential_id: created.record.id,
      application_credential_secret: created.secret,
    },
    ...(created.region ? { region_name: created.region } : {}),
    interface: "public",
    identity_api_version: 3,
  };
  const expiry = created.record.expiresAt ? ` It expires ${when(created.record.expiresAt)}.` : "";
  return `# Application credential ${created.record.name}: the secret is shown once; keep this file private.${expiry}\n${stringify({ clouds: { [name]: entry } }, { lineWidth: 0 })}`;
}

/**
 * Per-cloud application credentials on request: `POST|GET /api/v1/me/application-credentials`,
 * `DELETE /api/v1/me/application-credentials/{id}`, and the page forms behind "My clouds".
 */
export function appCredentialRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  const service = () => {
    if (!deps.appCredentials)
      throw new ArchwayError("not_supported", "application credentials need the token broker", 501);
    return deps.appCredentials;
  };
  const create = async (caller: WebContext, projectName: string, days: number | undefined) => {
    const { identity, tokenProject } = person(caller);
    // The session's own roles: a credential made here never carries a role that waits on a second factor the
    // session has not passed (the broker's token for such a project is a restricted one, which Keystone refuses
    // to make credentials with).
    const strength = sessionStrength(caller);
    const project = entitledProjects(identity, deps.policies(), strength).find((p) => p.name === projectName);
    if (!project) throw new ArchwayError("project_unknown", `no project '${projectName}' is granted to you`, 404);
    if (tokenProject !== undefined) withinTokenScope(identity, tokenProject, project, strength);
    const created = await service().create(identity, project, days);
    await deps.audit({
      type: "appcred.created",
      actor: identity.username,
      cloud: project.cloudId,
      project: project.name,
      id: created.record.id,
      expiresAt: created.record.expiresAt,
    });
    return created;
  };
  /**
   * A bearer token makes a credential only in a region of the project it is scoped to (Keystone, too, makes an
   * application credential for the project of the token that asks): a token scoped to `cloud-1:u-bob` must not
   * reach cloud-2 here when the proxy refuses it there.
   */
  const withinTokenScope = (
    identity: Identity,
    tokenProject: string | null,
    project: FacadeProject,
    strength: SessionStrength,
  ) => {
    if (tokenProject === null)
      throw new ArchwayError("scope_required", "an unscoped token reaches no cloud: scope it to the project", 403);
    const scope = entitlementsOf(identity, deps.policies(), strength).byId(tokenProject);
    if (projectInCloud(scope, project.cloudId)?.id !== project.id)
      throw new ArchwayError(
        "scope_mismatch",
        `this token is scoped to ${scope?.name ?? "a project no longer granted"}, not to ${project.name}`,
        403,
      );
  };
  const revoke = async (identity: Identity, id: string) => {
    // Revoking only deletes: the broker's token for it (full roles) never leaves Archway.
    const done = await service().revoke(identity, id, entitledProjects(identity, deps.policies(), WITH_MFA));
    if (done) await deps.audit({ type: "appcred.revoked", actor: identity.username, id });
    return done;
  };

  app.use("/api/v1/me/application-credentials", requireApi(deps));
  app.use("/api/v1/me/application-credentials/*", requireApi(deps));
  app.get("/api/v1/me/application-credentials", async (c) =>
    c.json({ applicationCredentials: await service().list(person(c).identity.id) }),
  );
  app.post("/api/v1/me/application-credentials", async (c) => {
    const body = parseFields(await c.req.json().catch(() => ({})), Create);
    const created = await create(c, body.project, body.days);
    c.header("cache-control", "no-store");
    return c.json({ applicationCredential: created.record, cloudsYaml: appCredentialYaml(created) }, 201);
  });
  app.delete("/api/v1/me/application-credentials/:id", async (c) => {
    const { id } = parseFields({ id: c.req.param("id") }, Revoke);
    if (!(await revoke(person(c).identity, id)))
      throw new ArchwayError("not_found", "no such application credential of yours", 404);
    return c.body(null, 204);
  });

  for (const path of APP_CREDENTIAL_PATHS) app.use(path, requirePage(deps));
  app.get("/app-credentials", (c) => page(c, deps));
  app.post("/app-credentials", async (c) => {
    const form = await readForm(c, deps, Create);
    const created = await create(c, form.project, form.days);
    return page(c, deps, appCredentialYaml(created));
  });
  app.post("/app-credentials/revoke", async (c) => {
    const form = await readForm(c, deps, Revoke);
    await revoke(person(c).identity, form.id);
    return c.redirect("/app-credentials", 303);
  });
  return app;
}

async function page(c: WebContext, deps: WebDeps, yaml?: string) {
  const user = pageUser(deps, c);
  const { identity } = person(c);
  const projects = entitledProjects(identity, deps.policies(), sessionStrength(c)).filter(
    (p) => deps.clouds.find((cl) => cl.id === p.cloudId)?.mode === "brokered",
  );
  const records = deps.appCredentials ? await deps.appCredentials.list(identity.id) : [];
  const maxDays = deps.appCredentials?.maxDays ?? 0;
  const now = new Date().toISOString();
  return renderPage(
    c,
    <Layout title="Application credentials" user={user} current="home">
      <h1>Application credentials</h1>
      <p>
        For tools that must reach a cloud directly, without Archway in the path. Each is bound to one project in one
        cloud and expires after at most {maxDays} days; revoke it here when it is no longer needed.
      </p>
      {yaml ? (
        <section class="card" aria-label="New credential">
          <h2>New credential: copy it now</h2>
          <p>The secret is shown only once. Add this entry to your clouds.yaml.</p>
          <pre>{yaml}</pre>
        </section>
      ) : null}
      <table>
        <caption>Your credentials</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Project</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Revoke</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr>
              <td>{r.name}</td>
              <td>{r.project}</td>
              <td>{when(r.createdAt)}</td>
              <td>{r.expiresAt && r.expiresAt <= now ? `expired ${when(r.expiresAt)}` : when(r.expiresAt)}</td>
              <td>
                <PostButton
                  action="/app-credentials/revoke"
                  csrf={user.csrf}
                  fields={{ id: r.id }}
                  label="Revoke"
                  kind="secondary"
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="post" action="/app-credentials" class="card">
        <CsrfField token={user.csrf} />
        <label for="project">Project</label>
        <select id="project" name="project" required>
          {projects.map((p) => (
            <option value={p.name}>{p.name}</option>
          ))}
        </select>
        <label for="days">Valid for (days, at most {maxDays})</label>
        <input id="days" name="days" type="number" min="1" max={maxDays} value={maxDays} required />
        <button type="submit">Create application credential</button>
      </form>
    </Layout>,
  );
}
