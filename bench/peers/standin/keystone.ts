// Keystone v3 as Archway's sync uses it: domains, projects, users, groups and members, roles, user and group
// grants on projects, role assignments, application credentials, and a token with a catalog of every service.
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
import type { CloudState } from "./state.js";

function token(base: string): Answer {
  const endpoint = (type: string, name: string, url: string) => ({
    type,
    name,
    endpoints: ["public", "internal", "admin"].map((iface) => ({
      interface: iface,
      region: "RegionOne",
      region_id: "RegionOne",
      url,
    })),
  });
  return {
    status: 201,
    data: {
      token: {
        expires_at: new Date(Date.now() + 3600_000).toISOString(),
        user: { id: "admin", name: "admin" },
        project: { id: "admin", name: "admin" },
        roles: [{ name: "admin" }],
        catalog: [
          endpoint("identity", "keystone", `${base}/v3`),
          endpoint("compute", "nova", `${base}/compute/v2.1`),
          endpoint("volumev3", "cinderv3", `${base}/volume/v3/admin`),
          endpoint("network", "neutron", `${base}/network`),
        ],
      },
    },
    headers: { "x-subject-token": randomUUID() },
  };
}

const exists = (map: Map<string, Json>, o: Json, fields: string[]) =>
  [...map.values()].some((x) => fields.every((f) => x[f] === o[f]));

/** Answers `/<cloud>/v3/...`; null when the call is not one of these. */
const ROUTES: Routes = [
  ...["PUT", "HEAD", "DELETE"].map((method): Routes[number] => [
    `${method} groups/:id/users/:id`,
    async (c, _call, [group, user]) => {
      const members = c.members.get(group!);
      if (!members || !c.users.has(user!)) return notFound();
      if (method === "PUT") members.add(user!);
      else if (!members.has(user!)) return notFound();
      else if (method === "DELETE") members.delete(user!);
      return ok(undefined, 204);
    },
  ]),
  ...["PUT", "GET", "HEAD", "DELETE"].map((method): Routes[number] => [
    `${method} projects/:id/tags/:id`,
    async (c, _call, [id, tag]) => {
      const project = c.projects.get(id!);
      if (!project) return notFound();
      const tags = project.tags as string[];
      if (method === "PUT") {
        // Keystone (Zed) answers 400 for a tag the project already has.
        if (tags.includes(tag!)) return fail(400, "tag exists");
        tags.push(tag!);
        return ok(undefined, 201);
      }
      if (!tags.includes(tag!)) return notFound();
      if (method === "DELETE") project.tags = tags.filter((t) => t !== tag);
      return ok(undefined, 204);
    },
  ]),
  ...(["users", "groups"] as const).flatMap((kind) =>
    ["PUT", "DELETE"].map((method): Routes[number] => [
      `${method} projects/:id/${kind}/:id/roles/:id`,
      async (c, _call, [project, actor, role]) => {
        if (!c.projects.has(project!) || !(kind === "users" ? c.users : c.groups).has(actor!)) return notFound();
        const grants = kind === "users" ? c.userGrants : c.groupGrants;
        const key = `${project}|${actor}|${role}`;
        if (method === "PUT") grants.add(key);
        else if (!grants.delete(key)) return notFound();
        return ok(undefined, 204);
      },
    ]),
  ),
  [
    "POST auth/tokens",
    async (_c, call, _ids) => {
      await call.body();
      return token(call.base);
    },
  ],
  [
    "GET domains",
    async (c, call, _ids) => {
      return ok({
        domains: [...c.domains.values()].filter((d) => matches(d, call.query, { name: "name" })),
        links: {},
      });
    },
  ],
  [
    "POST domains",
    async (c, call, _ids) => {
      const d = (await call.body()).domain as Json;
      if (exists(c.domains, d, ["name"])) return conflict();
      const domain = { enabled: true, description: "", ...d, id: randomUUID() };
      c.domains.set(domain.id, domain);
      return ok({ domain }, 201);
    },
  ],
  [
    "GET projects",
    async (c, call, _ids) => {
      const tags = call.query.get("tags")?.split(",") ?? [];
      const projects = [...c.projects.values()].filter(
        (p) =>
          matches(p, call.query, { domain_id: "domain_id", name: "name" }) &&
          tags.every((t) => (p.tags as string[]).includes(t)),
      );
      return ok({ projects, links: {} });
    },
  ],
  [
    "POST projects",
    async (c, call, _ids) => {
      const p = (await call.body()).project as Json;
      if (exists(c.projects, p, ["name", "domain_id"])) return conflict();
      const project = { enabled: true, tags: [], description: "", ...p, id: randomUUID() };
      c.projects.set(project.id, project);
      return ok({ project }, 201);
    },
  ],
  [
    "PATCH projects/:id",
    async (c, call, ids) => {
      const project = c.projects.get(ids[0]!);
      if (!project) return notFound();
      Object.assign(project, (await call.body()).project as Json);
      return ok({ project });
    },
  ],
  [
    "GET roles",
    async (c, call, _ids) => {
      return ok({ roles: c.roles.filter((r) => matches(r, call.query, { name: "name" })), links: {} });
    },
  ],
  [
    "GET users",
    async (c, call, _ids) => {
      return ok({
        users: [...c.users.values()].filter((u) => matches(u, call.query, { domain_id: "domain_id", name: "name" })),
        links: {},
      });
    },
  ],
  [
    "POST users",
    async (c, call, _ids) => {
      const { password: _, ...u } = (await call.body()).user as Json;
      if (exists(c.users, u, ["name", "domain_id"])) return conflict();
      const user = { enabled: true, options: {}, ...u, id: randomUUID() };
      c.users.set(user.id, user);
      return ok({ user }, 201);
    },
  ],
  [
    "PATCH users/:id",
    async (c, call, ids) => {
      const user = c.users.get(ids[0]!);
      if (!user) return notFound();
      const { password: _, ...changes } = (await call.body()).user as Json;
      Object.assign(user, changes);
      return ok({ user });
    },
  ],
  [
    "DELETE users/:id",
    async (c, _call, ids) => {
      if (!c.users.delete(ids[0]!)) return notFound();
      for (const m of c.members.values()) m.delete(ids[0]!);
      return ok(undefined, 204);
    },
  ],
  [
    "GET groups",
    async (c, call, _ids) => {
      return ok({
        groups: [...c.groups.values()].filter((g) => matches(g, call.query, { domain_id: "domain_id", name: "name" })),
        links: {},
      });
    },
  ],
  [
    "POST groups",
    async (c, call, _ids) => {
      const g = (await call.body()).group as Json;
      if (exists(c.groups, g, ["name", "domain_id"])) return conflict();
      const group = { description: "", ...g, id: randomUUID() };
      c.groups.set(group.id, group);
      c.members.set(group.id, new Set());
      return ok({ group }, 201);
    },
  ],
  [
    "PATCH groups/:id",
    async (c, call, ids) => {
      const group = c.groups.get(ids[0]!);
      if (!group) return notFound();
      Object.assign(group, (await call.body()).group as Json);
      return ok({ group });
    },
  ],
  [
    "DELETE groups/:id",
    async (c, _call, ids) => {
      if (!c.groups.delete(ids[0]!)) return notFound();
      c.members.delete(ids[0]!);
      return ok(undefined, 204);
    },
  ],
  [
    "GET groups/:id/users",
    async (c, _call, ids) => {
      const members = c.members.get(ids[0]!);
      if (!members) return notFound();
      return ok({ users: [...members].flatMap((id) => (c.users.has(id) ? [c.users.get(id)] : [])), links: {} });
    },
  ],
  [
    "GET role_assignments",
    async (c, call, _ids) => {
      const list = (grants: Set<string>, kind: "user" | "group") =>
        [...grants].map((a) => {
          const [project, actor, role] = a.split("|");
          return { role: { id: role }, [kind]: { id: actor }, scope: { project: { id: project } } } as Json;
        });
      const assignments = [...list(c.userGrants, "user"), ...list(c.groupGrants, "group")].filter(
        (a) =>
          (!call.query.has("user.id") || (a.user as Json | undefined)?.id === call.query.get("user.id")) &&
          (!call.query.has("group.id") || (a.group as Json | undefined)?.id === call.query.get("group.id")) &&
          (!call.query.has("scope.project.id") ||
            ((a.scope as Json).project as Json).id === call.query.get("scope.project.id")),
      );
      return ok({ role_assignments: assignments, links: {} });
    },
  ],
  [
    "GET users/:id/application_credentials",
    async (c, _call, ids) => {
      const user = ids[0]!;
      const list = c.users.has(user) && !c.credentialsGone.has(user) ? [{ id: user, name: "standin" }] : [];
      return ok({ application_credentials: list, links: {} });
    },
  ],
  [
    "DELETE users/:id/application_credentials/:id",
    async (c, _call, ids) => {
      const user = ids[0]!;
      if (!c.users.has(user) || c.credentialsGone.has(user)) return notFound();
      c.credentialsGone.add(user);
      return ok(undefined, 204);
    },
  ],
];

/** Answers this service's calls; null when the call is not one of them. */
export function keystone(c: CloudState, call: Call): Promise<Answer | null> {
  return dispatch(ROUTES, c, call);
}
