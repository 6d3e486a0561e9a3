import { Hono } from "hono";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import { requestLog } from "../env.js";
import { applyReviewedPlan, auditEvents, cloudHealth, explainPerson, reviewPlan } from "./admin-data.js";
import { UnlockRequestSchema, unlockFor } from "./admin-lockouts.js";
import { cloudsYaml } from "./clouds-yaml.js";
import { adminRole, type WebDeps } from "./deps.js";
import { myClouds, myKeys, syncMyKeys } from "./overview.js";
import {
  parseFields,
  person,
  requireAdmin,
  requireApi,
  sessionStrength,
  type WebContext,
  type WebEnv,
} from "./security.js";

const AddKey = z.object({ publicKey: z.string().min(1).max(8192) }).strict();
const Fingerprint = z.object({ fingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/) });
const AuditQuery = z.object({
  type: z.string().max(100).optional(),
  actor: z.string().max(256).optional(),
  cloud: z.string().max(100).optional(),
  text: z.string().max(256).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});
const ExplainQuery = z.object({
  username: z.string().min(1).max(256),
  source: z.string().max(100).optional(),
  cloud: z.string().max(100).optional(),
});
const Apply = z.object({ confirm: z.literal(true), planId: z.string().regex(/^[\w.:-]{1,100}$/) }).strict();

/**
 * JSON behind the pages, for scripts: `/api/v1/me`, `me/keys`, `me/clouds.yaml`, and `admin/clouds|plan|audit|
 * explain|lockouts|unlock|sync/apply`. Same authorization as the pages, by session cookie or Archway bearer token.
 */
export function apiRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.use("/api/v1/*", requireApi(deps));
  app.use("/api/v1/admin/*", requireAdmin(deps));

  const json = async (c: WebContext) => {
    const raw = await c.req.json().catch(() => {
      throw new ArchwayError("invalid_json", "request body is not valid JSON", 400);
    });
    return raw as unknown;
  };

  app.get("/api/v1/me", async (c) => {
    const { identity } = person(c);
    return c.json({
      username: identity.username,
      displayName: identity.displayName ?? null,
      email: identity.email ?? null,
      source: identity.source,
      groups: identity.groups,
      admin: deps.isAdmin(identity),
      auditor: adminRole(deps, identity) === "auditor",
      clouds: await myClouds(deps, identity, sessionStrength(c)),
    });
  });

  app.get("/api/v1/me/clouds.yaml", (c) =>
    c.body(cloudsYaml(deps, person(c).identity), 200, {
      "content-type": "application/yaml; charset=utf-8",
      "content-disposition": 'attachment; filename="clouds.yaml"',
      "cache-control": "no-store",
    }),
  );

  app.get("/api/v1/me/keys", async (c) => {
    const { identity } = person(c);
    const clouds = await myClouds(deps, identity, sessionStrength(c));
    return c.json({ keys: await myKeys(deps, identity, clouds) });
  });

  const resync = async (c: WebContext) => {
    // The key is stored either way; a cloud that is down gets it on the next run.
    await syncMyKeys(deps, person(c).identity).catch((err: Error) => {
      requestLog(c).warn({ err: err.message }, "key sync after a change failed");
    });
  };

  app.post("/api/v1/me/keys", async (c) => {
    const { identity } = person(c);
    const body = parseFields(await json(c), AddKey);
    const key = await deps.keys.add(identity, body.publicKey);
    await deps.audit({ type: "keys.added", actor: identity.username, fingerprint: key.fingerprint });
    await resync(c);
    return c.json({ key }, 201);
  });

  app.delete("/api/v1/me/keys", async (c) => {
    const { identity } = person(c);
    const { fingerprint } = parseFields(c.req.query(), Fingerprint);
    if (!(await deps.keys.remove(identity.id, fingerprint)))
      throw new ArchwayError("not_found", "you have no stored key with that fingerprint", 404);
    await deps.audit({ type: "keys.removed", actor: identity.username, fingerprint });
    await resync(c);
    return c.body(null, 204);
  });

  app.get("/api/v1/admin/clouds", async (c) => c.json({ clouds: await cloudHealth(deps) }));
  app.get("/api/v1/admin/plan", async (c) => c.json(await reviewPlan(deps)));
  app.get("/api/v1/admin/audit", async (c) =>
    c.json({ events: await auditEvents(deps, parseFields(c.req.query(), AuditQuery)) }),
  );
  app.get("/api/v1/admin/explain", async (c) => {
    const q = parseFields(c.req.query(), ExplainQuery);
    const e = await explainPerson(deps, q.username, { source: q.source, cloudId: q.cloud });
    if (!e) throw new ArchwayError("not_found", `no source knows '${q.username}'`, 404);
    return c.json(e);
  });
  app.get("/api/v1/admin/lockouts", async (c) => c.json({ lockouts: await deps.guard.recent(200) }));
  app.post("/api/v1/admin/unlock", async (c) => {
    const { person: who } = parseFields(await json(c), UnlockRequestSchema.strict());
    return c.json(await unlockFor(c, deps, who, "api"));
  });
  app.post("/api/v1/admin/sync/apply", async (c) => {
    const { planId } = parseFields(await json(c), Apply);
    const actor = person(c).identity.username;
    await deps.audit({ type: "sync.requested", actor, via: "api", planId });
    const run = await applyReviewedPlan(deps, planId);
    return c.json(run);
  });
  return app;
}
