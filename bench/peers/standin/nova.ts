// Nova's compute API as far as Archway syncs it: quota sets (microversion 2.57 shape: no network or injected-file
// quotas), flavors with extra specs and per-project access, and keypairs (none: the simulation's people have no keys).
import { randomUUID } from "node:crypto";
import { type Answer, type Call, conflict, dispatch, fail, type Json, notFound, ok, type Routes } from "./http.js";
import { type CloudState, limitsOf, resetLimits, setLimits } from "./state.js";

/** Nova's defaults at 2.57. */
export const NOVA_QUOTAS: Record<string, number> = {
  cores: 20,
  instances: 10,
  ram: 51200,
  key_pairs: 100,
  metadata_items: 128,
  server_groups: 10,
  server_group_members: 10,
};

function flavorView(_c: CloudState, f: Json): Json {
  return { ...f, links: [], extra_specs: { ...(f.extra_specs as Json) } };
}

/** Answers `/<cloud>/compute/v2.1/...`; null when the call is not one of these. */
const ROUTES: Routes = [
  [
    "GET os-quota-sets/:id",
    async (c, _call, ids) => ok({ quota_set: { id: ids[0], ...limitsOf(c, "compute", ids[0]!, NOVA_QUOTAS) } }),
  ],
  [
    "GET os-quota-sets/:id/detail",
    async (c, _call, ids) => {
      const limits = limitsOf(c, "compute", ids[0]!, NOVA_QUOTAS);
      const detail = Object.fromEntries(
        Object.entries(limits).map(([k, limit]) => [k, { limit, in_use: 0, reserved: 0 }]),
      );
      return ok({ quota_set: { id: ids[0], ...detail } });
    },
  ],
  [
    "PUT os-quota-sets/:id",
    async (c, call, ids) => {
      const set = setLimits(c, "compute", ids[0]!, NOVA_QUOTAS, ((await call.body()).quota_set ?? {}) as Json);
      return set ? ok({ quota_set: set }) : fail(400, "bad quota set");
    },
  ],
  [
    "DELETE os-quota-sets/:id",
    async (c, _call, ids) => {
      resetLimits(c, "compute", ids[0]!);
      return ok(undefined, 202);
    },
  ],
  [
    "GET flavors/detail",
    async (c, call, _ids) => {
      const isPublic = call.query.get("is_public");
      const list = [...c.flavors.values()].filter(
        (f) => isPublic === "None" || isPublic === "none" || f["os-flavor-access:is_public"] === (isPublic !== "false"),
      );
      return ok({ flavors: list.map((f) => flavorView(c, f)) });
    },
  ],
  [
    "GET flavors",
    async (c, call, _ids) => {
      const isPublic = call.query.get("is_public");
      const list = [...c.flavors.values()].filter(
        (f) => isPublic === "None" || isPublic === "none" || f["os-flavor-access:is_public"] === (isPublic !== "false"),
      );
      return ok({ flavors: list.map((f) => flavorView(c, f)) });
    },
  ],
  [
    "POST flavors",
    async (c, call, _ids) => {
      const f = (await call.body()).flavor as Json;
      if ([...c.flavors.values()].some((x) => x.name === f.name || (f.id && x.id === f.id))) return conflict();
      const flavor: Json = {
        "os-flavor-access:is_public": true,
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "OS-FLV-DISABLED:disabled": false,
        swap: 0,
        rxtx_factor: 1,
        description: null,
        ...f,
        id: f.id ?? randomUUID(),
        extra_specs: {},
      };
      flavor.disk = flavor.disk ?? 0;
      c.flavors.set(flavor.id as string, flavor);
      c.flavorAccess.set(flavor.id as string, new Set());
      return ok({ flavor: flavorView(c, flavor) });
    },
  ],
  [
    "GET flavors/:id",
    async (c, _call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      return flavor ? ok({ flavor: flavorView(c, flavor) }) : notFound();
    },
  ],
  [
    "PUT flavors/:id",
    async (c, call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      if (!flavor) return notFound();
      const { description } = ((await call.body()).flavor ?? {}) as Json;
      flavor.description = description ?? null;
      return ok({ flavor: flavorView(c, flavor) });
    },
  ],
  [
    "DELETE flavors/:id",
    async (c, _call, ids) => {
      if (!c.flavors.delete(ids[0]!)) return notFound();
      c.flavorAccess.delete(ids[0]!);
      return ok(undefined, 202);
    },
  ],
  [
    "GET flavors/:id/os-extra_specs",
    async (c, _call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      return flavor ? ok({ extra_specs: flavor.extra_specs }) : notFound();
    },
  ],
  [
    "POST flavors/:id/os-extra_specs",
    async (c, call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      if (!flavor) return notFound();
      const specs = ((await call.body()).extra_specs ?? {}) as Json;
      Object.assign(flavor.extra_specs as Json, specs);
      return ok({ extra_specs: specs });
    },
  ],
  [
    "PUT flavors/:id/os-extra_specs/:id",
    async (c, call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      if (!flavor) return notFound();
      const specs = (await call.body()) as Json;
      Object.assign(flavor.extra_specs as Json, specs);
      return ok(specs);
    },
  ],
  [
    "DELETE flavors/:id/os-extra_specs/:id",
    async (c, _call, ids) => {
      const specs = c.flavors.get(ids[0]!)?.extra_specs as Json | undefined;
      if (!specs || !(ids[1]! in specs)) return notFound();
      delete specs[ids[1]!];
      return ok(undefined, 200);
    },
  ],
  [
    "GET flavors/:id/os-flavor-access",
    async (c, _call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      if (!flavor) return notFound();
      if (flavor["os-flavor-access:is_public"]) return fail(404, "access list not available for public flavors");
      return ok({ flavor_access: access(c, ids[0]!) });
    },
  ],
  [
    "POST flavors/:id/action",
    async (c, call, ids) => {
      const flavor = c.flavors.get(ids[0]!);
      const projects = c.flavorAccess.get(ids[0]!);
      if (!flavor || !projects) return notFound();
      const body = await call.body();
      const add = (body.addTenantAccess as Json | undefined)?.tenant as string | undefined;
      const remove = (body.removeTenantAccess as Json | undefined)?.tenant as string | undefined;
      if (flavor["os-flavor-access:is_public"]) return fail(409, "cannot set access for a public flavor");
      if (add) {
        if (projects.has(add)) return conflict();
        projects.add(add);
      } else if (remove) {
        if (!projects.delete(remove)) return notFound();
      } else return fail(400, "unknown flavor action");
      return ok({ flavor_access: access(c, ids[0]!) });
    },
  ],
  [
    "GET os-keypairs",
    async (_c, _call, _ids) => {
      return ok({ keypairs: [] });
    },
  ],
];

/** Answers this service's calls; null when the call is not one of them. */
export function nova(c: CloudState, call: Call): Promise<Answer | null> {
  return dispatch(ROUTES, c, call);
}

function access(c: CloudState, flavorId: string): Json[] {
  return [...(c.flavorAccess.get(flavorId) ?? [])].map((tenant_id) => ({ flavor_id: flavorId, tenant_id }));
}
