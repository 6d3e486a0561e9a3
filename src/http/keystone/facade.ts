import { Hono } from "hono";
import { FACADE_DOMAIN } from "../../tokens/index.js";
import { type AppEnv, requestHeader } from "../env.js";
import { type FacadeCaller, type FacadeDeps, facadeCaller, KeystoneHttpError, keystoneErrors } from "./caller.js";
import { FacadeCatalogs } from "./facade-catalog.js";
import { issueToken } from "./issue-token.js";
import { facadeUserId, projectBody, versionDocument } from "./shapes.js";
import { revokeToken, validateToken } from "./validate-token.js";

export { FACADE_AUDIENCE, type FacadeCaller, type FacadeDeps, facadeCaller } from "./caller.js";

/**
 * The Keystone v3 subset keystoneauth1, openstacksdk and the `openstack` CLI use: a project exists in every cloud
 * where the person holds it, and those clouds are its regions in the catalog of a token scoped to it, with
 * endpoints pointing at Archway's proxy (docs/tokens.md). Token issue and validation have a file each
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

  // Each project once, with every region where the person holds it; `?name=` also finds a `<cloud>:<project>` alias.
  const listProjects = (caller: FacadeCaller, name: string | undefined, self: string) => {
    const found = name === undefined ? undefined : caller.entitlements.byName(name);
    const projects = name === undefined ? caller.entitlements.projects : found ? [found] : [];
    return {
      projects: projects.map((p) => projectBody(p, deps.publicUrl)),
      links: { self, next: null, previous: null },
    };
  };
  const ownProjects = keystoneErrors(async (c) => {
    const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
    return c.json(listProjects(caller, c.req.query("name"), `${deps.publicUrl}${c.req.path}`));
  });
  app.get("/v3/auth/projects", ownProjects);
  app.get("/v3/projects", ownProjects);
  app.get(
    "/v3/users/:userId/projects",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
      // As in Keystone: a person lists their own projects, nobody else's.
      if (c.req.param("userId") !== facadeUserId(caller.identity))
        throw new KeystoneHttpError(
          403,
          "You are not authorized to perform the requested action: identity:list_user_projects.",
        );
      return c.json(listProjects(caller, c.req.query("name"), `${deps.publicUrl}${c.req.path}`));
    }),
  );
  app.get(
    "/v3/projects/:id",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
      const id = c.req.param("id") ?? "";
      const project = caller.entitlements.byId(id);
      if (!project) throw new KeystoneHttpError(404, `Could not find project: ${id}.`);
      return c.json({ project: projectBody(project, deps.publicUrl) });
    }),
  );
  app.get(
    "/v3/auth/domains",
    keystoneErrors(async (c) => {
      await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
      return c.json({
        domains: [{ ...FACADE_DOMAIN, enabled: true, description: "Archway" }],
        links: { self: `${deps.publicUrl}/v3/auth/domains`, next: null, previous: null },
      });
    }),
  );
  app.get(
    "/v3/auth/catalog",
    keystoneErrors(async (c) => {
      const caller = await facadeCaller(deps, requestHeader(c, "x-auth-token"), c);
      // Keystone's own answer to an unscoped token: it reaches no service, so it has no catalog.
      if (!caller.scoped)
        throw new KeystoneHttpError(403, "A project-scoped token is required to produce a service catalog.");
      return c.json({
        catalog: (await catalogs.of(caller.scoped)).catalog,
        links: { self: `${deps.publicUrl}/v3/auth/catalog` },
      });
    }),
  );
  return app;
}
