// Neutron's networking API as far as Archway syncs it: quotas (`/v2.0/quotas/<project>`, `/details`) and security
// groups with their rules. As Neutron does, a project's `default` group appears the first time its groups are listed.
import { randomUUID } from "node:crypto";
import {
  type Answer,
  type Call,
  conflict,
  dispatch,
  fail,
  type Json,
  matches,
  notFound,
  ok,
  type Routes,
} from "./http.js";
import { type CloudState, limitsOf, resetLimits, setLimits } from "./state.js";

/** Neutron's defaults. */
export const NEUTRON_QUOTAS: Record<string, number> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
};

const RULE_FIELDS = [
  "direction",
  "ethertype",
  "protocol",
  "port_range_min",
  "port_range_max",
  "remote_ip_prefix",
  "remote_group_id",
];

function addRule(c: CloudState, r: Json): Json {
  const rule: Json = {
    ethertype: "IPv4",
    protocol: null,
    port_range_min: null,
    port_range_max: null,
    remote_ip_prefix: null,
    remote_group_id: null,
    description: "",
    ...r,
    id: randomUUID(),
  };
  c.securityGroupRules.set(rule.id as string, rule);
  return rule;
}

function createGroup(c: CloudState, g: Json): Json {
  const group: Json = { description: "", tags: [], stateful: true, ...g, id: randomUUID() };
  group.tenant_id = group.project_id;
  c.securityGroups.set(group.id as string, group);
  for (const ethertype of ["IPv4", "IPv6"])
    addRule(c, { security_group_id: group.id, project_id: group.project_id, direction: "egress", ethertype });
  return group;
}

function groupView(c: CloudState, g: Json): Json {
  const rules = [...c.securityGroupRules.values()].filter((r) => r.security_group_id === g.id);
  return { ...g, security_group_rules: rules };
}

/** Answers `/<cloud>/network/v2.0/...`; null when the call is not one of these. */
const ROUTES: Routes = [
  [
    "GET v2.0/quotas/:id",
    async (c, _call, ids) => {
      return ok({ quota: limitsOf(c, "network", ids[0]!, NEUTRON_QUOTAS) });
    },
  ],
  [
    "GET v2.0/quotas/:id/details",
    async (c, _call, ids) => {
      const limits = limitsOf(c, "network", ids[0]!, NEUTRON_QUOTAS);
      return ok({
        quota: Object.fromEntries(Object.entries(limits).map(([k, limit]) => [k, { limit, used: 0, reserved: 0 }])),
      });
    },
  ],
  [
    "PUT v2.0/quotas/:id",
    async (c, call, ids) => {
      const set = setLimits(c, "network", ids[0]!, NEUTRON_QUOTAS, ((await call.body()).quota ?? {}) as Json);
      return set ? ok({ quota: set }) : fail(400, "bad quota");
    },
  ],
  [
    "DELETE v2.0/quotas/:id",
    async (c, _call, ids) => {
      resetLimits(c, "network", ids[0]!);
      return ok(undefined, 204);
    },
  ],
  [
    "GET v2.0/security-groups",
    async (c, call, _ids) => {
      const project = call.query.get("project_id") ?? call.query.get("tenant_id");
      if (project && ![...c.securityGroups.values()].some((g) => g.project_id === project && g.name === "default"))
        createGroup(c, { name: "default", description: "Default security group", project_id: project });
      // As Neutron: `name` may repeat (any of them), `tags` holds a comma-separated list (all of them).
      const names = call.query.getAll("name");
      const tags = call.query.get("tags")?.split(",") ?? [];
      const list = [...c.securityGroups.values()].filter(
        (g) =>
          matches(g, call.query, { project_id: "project_id", tenant_id: "project_id", id: "id" }) &&
          (names.length === 0 || names.includes(g.name as string)) &&
          tags.every((t) => (g.tags as string[]).includes(t)),
      );
      return ok({ security_groups: list.map((g) => groupView(c, g)) });
    },
  ],
  [
    "POST v2.0/security-groups",
    async (c, call, _ids) => {
      const g = (await call.body()).security_group as Json;
      return ok({ security_group: groupView(c, createGroup(c, { project_id: "admin", ...g })) }, 201);
    },
  ],
  [
    "GET v2.0/security-groups/:id",
    async (c, _call, ids) => {
      const group = c.securityGroups.get(ids[0]!);
      return group ? ok({ security_group: groupView(c, group) }) : notFound();
    },
  ],
  [
    "PUT v2.0/security-groups/:id",
    async (c, call, ids) => {
      const group = c.securityGroups.get(ids[0]!);
      if (!group) return notFound();
      const { name, description } = ((await call.body()).security_group ?? {}) as Json;
      if (name !== undefined) group.name = name;
      if (description !== undefined) group.description = description;
      return ok({ security_group: groupView(c, group) });
    },
  ],
  [
    "PUT v2.0/security-groups/:id/tags",
    async (c, call, ids) => {
      const group = c.securityGroups.get(ids[0]!);
      if (!group) return notFound();
      group.tags = [...(((await call.body()).tags as string[]) ?? [])];
      return ok({ tags: group.tags });
    },
  ],
  [
    "DELETE v2.0/security-groups/:id",
    async (c, _call, ids) => {
      if (!c.securityGroups.delete(ids[0]!)) return notFound();
      for (const [id, r] of c.securityGroupRules) if (r.security_group_id === ids[0]) c.securityGroupRules.delete(id);
      return ok(undefined, 204);
    },
  ],
  [
    "GET v2.0/security-group-rules",
    async (c, call, _ids) => {
      const list = [...c.securityGroupRules.values()].filter((r) =>
        matches(r, call.query, {
          security_group_id: "security_group_id",
          project_id: "project_id",
          direction: "direction",
        }),
      );
      return ok({ security_group_rules: list });
    },
  ],
  [
    "POST v2.0/security-group-rules",
    async (c, call, _ids) => {
      const r = (await call.body()).security_group_rule as Json;
      const group = c.securityGroups.get(r.security_group_id as string);
      if (!group) return notFound();
      const same = (x: Json) =>
        x.security_group_id === r.security_group_id &&
        RULE_FIELDS.every((f) => (x[f] ?? null) === (r[f] ?? (f === "ethertype" ? "IPv4" : null)));
      if ([...c.securityGroupRules.values()].some(same)) return conflict();
      return ok({ security_group_rule: addRule(c, { project_id: group.project_id, ...r }) }, 201);
    },
  ],
  [
    "DELETE v2.0/security-group-rules/:id",
    async (c, _call, ids) => {
      if (!c.securityGroupRules.delete(ids[0]!)) return notFound();
      return ok(undefined, 204);
    },
  ],
];

/** Answers this service's calls; null when the call is not one of them. */
export function neutron(c: CloudState, call: Call): Promise<Answer | null> {
  return dispatch(ROUTES, c, call);
}
