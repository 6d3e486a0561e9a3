import { Hono } from "hono";
import { FACADE_DOMAIN } from "../../tokens/index.js";
import { type AppEnv, requestHeader } from "../env.js";
import { type FacadeDeps, facadeCaller, KeystoneHttpError, keystoneErrors } from "./caller.js";
import { FacadeCatalogs } from "./facade-catalog.js";
import { issueToken } from "./issue-token.js";
import { projectBody, versionDocument } from "./shapes.js";
import { revokeToken, validateToken } from "./validate-token.js";

export { FACADE_AUDIENCE, type FacadeCaller, type FacadeDeps, facadeCaller } from "./caller.js";

/**
 * The Keystone v3 subset keystoneauth1, openstacksdk and the `openstack` CLI use: every entitled cloud shows up as
 * a region of one catalog whose endpoints point at Archway's proxy. Token issue and validation have a file each
 * (issue-token.ts, validate-token.ts); the listings are here.
 */
export function keystoneFacade(deps: FacadeDeps) {
  const app = new Hono<AppEnv>();
  const catalogs = new FacadeCatalogs(deps);
  const version = keystoneErrors((c) => c.json(versionDocument(deps.publicUrl)));
  app.get("/v3", version);
  app.get("/v3/", version);

  app.post("/v3/auth/tokens", keystoneErrors(issueToken(deps, catalogs)));
  app.on(["GET", "HEAD"], "/v3/auth/tokens", keystoneErrors(validateToken(deps, catalogs)));
  app.delete("/v3/auth/tokens", keystoneErrors(revokeToken(deps)));

  const listProjects = keystoneErrors(async (c) => {
    const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
    const name = c.req.query("name");
    const projects = caller.projects.filter((p) => !name || p.name === name);
    return c.json({
      projects: projects.map((p) => projectBody(p, deps.publicUrl)),
      links: { self: `${deps.publicUrl}${c.req.path}`, next: null, previous: null },
    });
  });
  app.get("/v3/auth/projects", listProjects);
  app.get("/v3/projects", listProjects);
  app.get("/v3/users/:userId/projects", listProjects);
  app.get(
    "/v3/projects/:id",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      const project = caller.projects.find((p) => p.id === c.req.param("id"));
      if (!project) throw new KeystoneHttpError(404, `Could not find project: ${c.req.param("id")}.`);
      return c.json({ project: projectBody(project, deps.publicUrl) });
    }),
  );
  app.get(
    "/v3/auth/domains",
    keystoneErrors(async (c) => {
      await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      return c.json({
        domains: [{ ...FACADE_DOMAIN, enabled: true, description: "Archway" }],
        links: { self: `${deps.publicUrl}/v3/auth/domains`, next: null, previous: null },
      });
    }),
  );
  app.get(
    "/v3/auth/catalog",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"));
      return c.json({
        catalog: (await catalogs.of(caller.projects)).catalog,
        links: { self: `${deps.publicUrl}/v3/auth/catalog` },
      });
    }),
  );
  return app;
}
