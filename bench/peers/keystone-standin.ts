// A light stand-in for many Keystones, for the sync scale SIMULATION only (not a Keystone): one process serves
// every cloud under /<cloud>/v3, keeps each cloud's domains, projects, users and role assignments in memory and
// answers the calls Archway's sync makes, each after a random 5-20 ms (a realistic Keystone reply time).
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

type Json = Record<string, unknown>;

interface CloudState {
  domains: Map<string, Json>;
  projects: Map<string, Json>;
  users: Map<string, Json>;
  roles: Json[];
  /** `<project>|<user>|<role>` */
  assignments: Set<string>;
  /** Users whose one application credential was deleted (every user starts with one, for offboarding). */
  credentialsGone: Set<string>;
}

const MIN_MS = Number(process.env.STANDIN_MIN_MS ?? 5);
const MAX_MS = Number(process.env.STANDIN_MAX_MS ?? 20);
const clouds = new Map<string, CloudState>();

function cloud(id: string): CloudState {
  let c = clouds.get(id);
  if (!c) {
    c = {
      domains: new Map([["default", { id: "default", name: "Default", enabled: true, description: "" }]]),
      projects: new Map(),
      users: new Map(),
      roles: ["member", "reader", "admin"].map((name) => ({ id: `role-${name}`, name, domain_id: null })),
      assignments: new Set(),
      credentialsGone: new Set(),
    };
    clouds.set(id, c);
  }
  return c;
}

async function body(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length ? (JSON.parse(Buffer.concat(chunks).toString()) as Json) : {};
}

function reply(res: ServerResponse, status: number, data?: unknown, headers: Record<string, string> = {}) {
  const text = data === undefined ? "" : JSON.stringify(data);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const matches = (o: Json, q: URLSearchParams, fields: Record<string, string>) =>
  Object.entries(fields).every(([param, field]) => !q.has(param) || o[field] === q.get(param));

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://standin");
  const m = /^\/([^/]+)\/v3(\/.*)$/.exec(url.pathname);
  if (!m) return reply(res, 404, { error: { code: 404, message: "no such cloud path" } });
  const c = cloud(m[1]!);
  const path = m[2]!;
  const q = url.searchParams;
  const method = req.method ?? "GET";
  const route = `${method} ${path.replace(/\/[0-9a-f-]{36}|\/role-\w+/g, "/:id")}`;
  switch (route) {
    case "POST /auth/tokens": {
      await body(req);
      const expires = new Date(Date.now() + 3600_000).toISOString();
      const token = {
        expires_at: expires,
        user: { id: "admin", name: "admin" },
        project: { id: "admin", name: "admin" },
        catalog: [],
      };
      return reply(res, 201, { token }, { "x-subject-token": randomUUID() });
    }
    case "GET /domains":
      return reply(res, 200, {
        domains: [...c.domains.values()].filter((d) => matches(d, q, { name: "name" })),
        links: {},
      });
    case "POST /domains": {
      const d = (await body(req)).domain as Json;
      if ([...c.domains.values()].some((x) => x.name === d.name)) return reply(res, 409, { error: { code: 409 } });
      const domain = { enabled: true, description: "", ...d, id: randomUUID() };
      c.domains.set(domain.id, domain);
      return reply(res, 201, { domain });
    }
    case "GET /projects": {
      const tags = q.get("tags")?.split(",") ?? [];
      const list = [...c.projects.values()].filter(
        (p) =>
          matches(p, q, { domain_id: "domain_id", name: "name" }) &&
          tags.every((t) => (p.tags as string[]).includes(t)),
      );
      return reply(res, 200, { projects: list, links: {} });
    }
    case "POST /projects": {
      const p = (await body(req)).project as Json;
      if ([...c.projects.values()].some((x) => x.name === p.name && x.domain_id === p.domain_id))
        return reply(res, 409, { error: { code: 409 } });
      const project = { enabled: true, tags: [], description: "", ...p, id: randomUUID() };
      c.projects.set(project.id, project);
      return reply(res, 201, { project });
    }
    case "GET /roles":
      return reply(res, 200, { roles: c.roles, links: {} });
    case "GET /users":
      return reply(res, 200, {
        users: [...c.users.values()].filter((u) => matches(u, q, { domain_id: "domain_id", name: "name" })),
        links: {},
      });
    case "POST /users": {
      const { password: _, ...u } = (await body(req)).user as Json;
      if ([...c.users.values()].some((x) => x.name === u.name && x.domain_id === u.domain_id))
        return reply(res, 409, { error: { code: 409 } });
      const user = { enabled: true, options: {}, ...u, id: randomUUID() };
      c.users.set(user.id, user);
      return reply(res, 201, { user });
    }
    case "PATCH /users/:id": {
      const id = path.split("/")[2]!;
      const user = c.users.get(id);
      if (!user) return reply(res, 404, { error: { code: 404 } });
      const { password: _, ...changes } = (await body(req)).user as Json;
      Object.assign(user, changes);
      return reply(res, 200, { user });
    }
    case "GET /role_assignments": {
      const list = [...c.assignments].map((a) => {
        const [project, user, role] = a.split("|");
        return { role: { id: role }, user: { id: user }, scope: { project: { id: project } } };
      });
      return reply(res, 200, { role_assignments: list, links: {} });
    }
    case "GET /groups":
      return reply(res, 200, { groups: [], links: {} });
    case "PUT /projects/:id/users/:id/roles/:id":
    case "DELETE /projects/:id/users/:id/roles/:id": {
      const [, , project, , user, , role] = path.split("/");
      const key = `${project}|${user}|${role}`;
      if (method === "PUT") c.assignments.add(key);
      else c.assignments.delete(key);
      return reply(res, 204);
    }
    case "GET /users/:id/application_credentials": {
      const user = path.split("/")[2]!;
      const list = c.users.has(user) && !c.credentialsGone.has(user) ? [{ id: user, name: "standin" }] : [];
      return reply(res, 200, { application_credentials: list, links: {} });
    }
    case "DELETE /users/:id/application_credentials/:id": {
      const user = path.split("/")[2]!;
      if (!c.users.has(user) || c.credentialsGone.has(user)) return reply(res, 404, { error: { code: 404 } });
      c.credentialsGone.add(user);
      return reply(res, 204);
    }
    default:
      return reply(res, 501, { error: { code: 501, message: `the stand-in does not serve ${route}` } });
  }
}

const server = createServer((req, res) => {
  const delay = MIN_MS + Math.random() * (MAX_MS - MIN_MS);
  setTimeout(() => {
    handle(req, res).catch((err: Error) => reply(res, 500, { error: { code: 500, message: err.message } }));
  }, delay);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
