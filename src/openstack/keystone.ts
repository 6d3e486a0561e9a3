import type { z } from "zod";
import { ArchwayError } from "../errors.js";
import { endpointFor } from "./catalog.js";
import { isUpstreamStatus } from "./errors.js";
import type { CallSpec, Transport } from "./http.js";
import {
  type Domain,
  DomainSchema,
  type Group,
  GroupSchema,
  listOf,
  oneOf,
  type Project,
  ProjectSchema,
  type Role,
  type RoleAssignment,
  RoleAssignmentSchema,
  RoleSchema,
  type User,
  UserSchema,
} from "./keystone-schemas.js";
import type { KeystoneSession } from "./session.js";

/** Fields of a user Archway writes; anything else becomes a top-level extra attribute in Keystone. */
export interface UserWrite {
  name?: string;
  domain_id?: string;
  enabled?: boolean;
  password?: string;
  email?: string | null;
  description?: string | null;
  options?: Record<string, boolean>;
  [extra: string]: unknown;
}

/** Fields of a project Archway writes. */
export interface ProjectWrite {
  name?: string;
  domain_id?: string;
  description?: string;
  enabled?: boolean;
  tags?: string[];
  [extra: string]: unknown;
}

/** Role assignment filters of `GET /v3/role_assignments`. */
export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  roleId?: string;
  includeNames?: boolean;
  effective?: boolean;
}

/**
 * A typed Keystone v3 admin client for one cloud. Every call goes through the cloud's {@link Transport}
 * (timeouts, retries, concurrency limit, zod-validated replies) with the admin session's token; a 401 logs in
 * again once. List calls refuse a `truncated` reply: a partial list would look like missing objects to sync.
 */
export class KeystoneClient {
  constructor(
    private readonly transport: Transport,
    /** Keystone's `/v3` URL, without a trailing slash. */
    readonly authUrl: string,
    private readonly session: KeystoneSession,
  ) {}

  get cloudId(): string {
    return this.transport.cloudId;
  }

  /** The admin token (cached; logs in when needed). */
  token(): Promise<string> {
    return this.session.get().then((t) => t.token);
  }

  /**
   * The project the admin token is scoped to (none for a system or domain scope): Keystone substitutes it into
   * catalog URLs that name a project (Cinder's `/v3/%(project_id)s`).
   */
  async projectId(): Promise<string | undefined> {
    return (await this.session.get()).projectId;
  }

  /** The URL of a service from the admin token's catalog. */
  async endpoint(serviceType: string, opts: { interface?: string; region?: string } = {}): Promise<string> {
    const issued = await this.session.get();
    return endpointFor(issued.catalog, serviceType, opts, this.cloudId);
  }

  /** One authenticated call under this cloud's transport; `path` is relative to `/v3` unless it is absolute. */
  async request<S extends z.ZodType | undefined>(
    spec: Omit<CallSpec<S>, "url"> & { path: string },
    /** Another service's transport (Nova) that shares this admin session. */
    via: Transport = this.transport,
  ): Promise<S extends z.ZodType ? z.infer<S> : undefined> {
    const { path, ...rest } = spec;
    const url = /^https?:/.test(path) ? path : `${this.authUrl}${path}`;
    for (let attempt = 0; ; attempt++) {
      const issued = await this.session.get();
      try {
        const res = await via.call({
          ...rest,
          url,
          headers: { ...spec.headers, "x-auth-token": issued.token },
        });
        return res.data;
      } catch (err) {
        if (attempt === 0 && isUpstreamStatus(err, 401)) {
          this.session.invalidate(issued.token);
          continue;
        }
        throw err;
      }
    }
  }

  private async list<T extends z.ZodType>(
    operation: string,
    path: string,
    key: string,
    item: T,
  ): Promise<z.infer<T>[]> {
    const reply = await this.request({ operation, method: "GET", path, schema: listOf(key, item) });
    if (reply.truncated) {
      throw new ArchwayError(
        "keystone_truncated",
        `cloud ${this.cloudId}: ${operation} was truncated by Keystone's list_limit; raise it for Archway's admin`,
        502,
      );
    }
    return reply.items;
  }

  // ---- domains
  listDomains(filter: { name?: string } = {}): Promise<Domain[]> {
    return this.list("keystone.domains.list", `/domains${query({ name: filter.name })}`, "domains", DomainSchema);
  }
  createDomain(body: { name: string; description?: string; enabled?: boolean }): Promise<Domain> {
    return this.request({
      operation: "keystone.domains.create",
      method: "POST",
      path: "/domains",
      body: { domain: body },
      schema: oneOf("domain", DomainSchema),
    });
  }
  updateDomain(id: string, body: { enabled?: boolean; description?: string }): Promise<Domain> {
    const path = `/domains/${enc(id)}`;
    const schema = oneOf("domain", DomainSchema);
    return this.request({
      operation: "keystone.domains.update",
      method: "PATCH",
      path,
      body: { domain: body },
      schema,
    });
  }
  /** Deletes a domain; Keystone requires it to be disabled first, so this disables it. */
  async deleteDomain(id: string): Promise<void> {
    await this.updateDomain(id, { enabled: false });
    await this.request({ operation: "keystone.domains.delete", method: "DELETE", path: `/domains/${enc(id)}` });
  }

  // ---- projects
  listProjects(filter: { domainId?: string; name?: string; tags?: string[] } = {}): Promise<Project[]> {
    const q = query({ domain_id: filter.domainId, name: filter.name, tags: filter.tags?.join(",") });
    return this.list("keystone.projects.list", `/projects${q}`, "projects", ProjectSchema);
  }
  createProject(body: ProjectWrite & { name: string; domain_id: string }): Promise<Project> {
    const schema = oneOf("project", ProjectSchema);
    return this.request({
      operation: "keystone.projects.create",
      method: "POST",
      path: "/projects",
      body: { project: body },
      schema,
    });
  }
  updateProject(id: string, body: ProjectWrite): Promise<Project> {
    const path = `/projects/${enc(id)}`;
    const schema = oneOf("project", ProjectSchema);
    return this.request({
      operation: "keystone.projects.update",
      method: "PATCH",
      path,
      body: { project: body },
      schema,
    });
  }
  async deleteProject(id: string): Promise<void> {
    await this.request({ operation: "keystone.projects.delete", method: "DELETE", path: `/projects/${enc(id)}` });
  }

  // ---- users
  listUsers(filter: { domainId?: string; name?: string } = {}): Promise<User[]> {
    const q = query({ domain_id: filter.domainId, name: filter.name });
    return this.list("keystone.users.list", `/users${q}`, "users", UserSchema);
  }
  getUser(id: string): Promise<User> {
    const schema = oneOf("user", UserSchema);
    return this.request({ operation: "keystone.users.get", method: "GET", path: `/users/${enc(id)}`, schema });
  }
  createUser(body: UserWrite & { name: string; domain_id: string }): Promise<User> {
    const schema = oneOf("user", UserSchema);
    return this.request({
      operation: "keystone.users.create",
      method: "POST",
      path: "/users",
      body: { user: body },
      schema,
    });
  }
  updateUser(id: string, body: UserWrite): Promise<User> {
    const schema = oneOf("user", UserSchema);
    const path = `/users/${enc(id)}`;
    return this.request({ operation: "keystone.users.update", method: "PATCH", path, body: { user: body }, schema });
  }
  async deleteUser(id: string): Promise<void> {
    await this.request({ operation: "keystone.users.delete", method: "DELETE", path: `/users/${enc(id)}` });
  }

  // ---- groups and memberships
  listGroups(filter: { domainId?: string; name?: string } = {}): Promise<Group[]> {
    const q = query({ domain_id: filter.domainId, name: filter.name });
    return this.list("keystone.groups.list", `/groups${q}`, "groups", GroupSchema);
  }
  createGroup(body: {
    name: string;
    domain_id: string;
    description?: string;
    [extra: string]: unknown;
  }): Promise<Group> {
    const schema = oneOf("group", GroupSchema);
    return this.request({
      operation: "keystone.groups.create",
      method: "POST",
      path: "/groups",
      body: { group: body },
      schema,
    });
  }
  updateGroup(id: string, body: { name?: string; description?: string; [extra: string]: unknown }): Promise<Group> {
    const schema = oneOf("group", GroupSchema);
    const path = `/groups/${enc(id)}`;
    return this.request({ operation: "keystone.groups.update", method: "PATCH", path, body: { group: body }, schema });
  }
  async deleteGroup(id: string): Promise<void> {
    await this.request({ operation: "keystone.groups.delete", method: "DELETE", path: `/groups/${enc(id)}` });
  }
  listGroupUsers(groupId: string): Promise<User[]> {
    return this.list("keystone.groups.users", `/groups/${enc(groupId)}/users`, "users", UserSchema);
  }
  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    const path = `/groups/${enc(groupId)}/users/${enc(userId)}`;
    await this.request({ operation: "keystone.groups.add_user", method: "PUT", path });
  }
  async removeUserFromGroup(groupId: string, userId: string): Promise<void> {
    const path = `/groups/${enc(groupId)}/users/${enc(userId)}`;
    await this.request({ operation: "keystone.groups.remove_user", method: "DELETE", path });
  }

  // ---- roles and assignments
  listRoles(filter: { name?: string } = {}): Promise<Role[]> {
    return this.list("keystone.roles.list", `/roles${query({ name: filter.name })}`, "roles", RoleSchema);
  }
  createRole(body: { name: string }): Promise<Role> {
    const schema = oneOf("role", RoleSchema);
    return this.request({
      operation: "keystone.roles.create",
      method: "POST",
      path: "/roles",
      body: { role: body },
      schema,
    });
  }
  async deleteRole(id: string): Promise<void> {
    await this.request({ operation: "keystone.roles.delete", method: "DELETE", path: `/roles/${enc(id)}` });
  }
  listRoleAssignments(filter: AssignmentFilter = {}): Promise<RoleAssignment[]> {
    const q = query({
      "user.id": filter.userId,
      "group.id": filter.groupId,
      "scope.project.id": filter.projectId,
      "scope.domain.id": filter.domainId,
      "role.id": filter.roleId,
      include_names: filter.includeNames ? "true" : undefined,
      effective: filter.effective ? "true" : undefined,
    });
    return this.list(
      "keystone.role_assignments.list",
      `/role_assignments${q}`,
      "role_assignments",
      RoleAssignmentSchema,
    );
  }
  /** Grants `roleId` to a user or group on a project (PUT: granting twice is harmless). */
  async grantProjectRole(target: { userId: string } | { groupId: string }, projectId: string, roleId: string) {
    await this.request({
      operation: "keystone.roles.grant",
      method: "PUT",
      path: roleGrantPath(target, projectId, roleId),
    });
  }
  async revokeProjectRole(target: { userId: string } | { groupId: string }, projectId: string, roleId: string) {
    const path = roleGrantPath(target, projectId, roleId);
    await this.request({ operation: "keystone.roles.revoke", method: "DELETE", path });
  }
}

function roleGrantPath(target: { userId: string } | { groupId: string }, projectId: string, roleId: string): string {
  const who = "userId" in target ? `users/${enc(target.userId)}` : `groups/${enc(target.groupId)}`;
  return `/projects/${enc(projectId)}/${who}/roles/${enc(roleId)}`;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** `?a=1&b=2` from the defined entries, or "". */
export function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : "";
}
