import type { AuditEvent } from "../audit/index.js";
import type { Cloud } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import { type CloudClients, isUpstreamStatus, mapLimit, type UserWrite } from "../openstack/index.js";
import { idpMark } from "./federated.js";
import type { ObservedCloud } from "./observe.js";
import { describe, type Operation } from "./operations.js";
import {
  DEPLOYMENT_ATTR,
  DISABLED_AT_ATTR,
  extraMark,
  extraMarks,
  IDENTITY_ATTR,
  KEY_VERSION_ATTR,
  KEYS_ATTR,
  type Ownership,
  ownedUser,
  projectMark,
  SHADOW_USER_OPTIONS,
  shadowPassword,
} from "./ownership.js";
import type { CloudPlan } from "./plan.js";

/** What apply needs besides the clients. */
export interface ApplyDeps {
  clients: CloudClients;
  /** Key of the derived shadow passwords (never logged). */
  passwordSecret: string;
  keyVersion: number;
  /** Whose marks to write; a create that meets an existing object adopts it only when it carries them. */
  ownership: Ownership;
  now: () => Date;
  audit: (event: AuditEvent) => Promise<void> | void;
  /** Called after each operation (progress bars). */
  onProgress?: (done: number, total: number) => void;
  runId?: string;
}

/** An operation that failed, and why. */
export interface FailedOperation {
  operation: Operation;
  code: string;
  message: string;
}

/** What one cloud's apply did. */
export interface ApplyResult {
  cloudId: string;
  applied: number;
  failed: FailedOperation[];
}

/** Apply phases: later phases depend on objects earlier ones create; operations within a phase run in parallel. */
const PHASES: Operation["kind"][][] = [
  ["ensureDomain"],
  [
    "createProject",
    "updateProject",
    "createGroup",
    "markGroup",
    "createUser",
    "updateUser",
    "ensureIdentityProvider",
    "ensureMapping",
  ],
  ["grant", "addMember", "importKey", "grantGroup", "ensureProtocol"],
  ["recordKeys", "revoke", "removeMember", "deleteKey", "revokeGroup"],
  ["disableUser"],
  ["deleteUser"],
];

/**
 * Applies a plan to one cloud. Every step is safe to repeat: grants are PUTs, a 409 on create re-reads and
 * adopts Archway's own object, a 404 on delete counts as done. So a run killed half-way converges on rerun,
 * without duplicates. Each applied operation becomes an audit event `sync.applied`.
 */
export async function applyPlan(plan: CloudPlan, observed: ObservedCloud, deps: ApplyDeps): Promise<ApplyResult> {
  const ctx = new ApplyContext(deps.clients.cloud, observed, deps);
  const result: ApplyResult = { cloudId: plan.cloudId, applied: 0, failed: [] };
  const total = plan.operations.length;
  let done = 0;
  for (const phase of PHASES) {
    const ops = plan.operations.filter((op) => phase.includes(op.kind));
    await mapLimit(ops, deps.clients.limiter.max, async (op) => {
      try {
        await ctx.run(op);
        result.applied++;
        await deps.audit({
          type: "sync.applied",
          cloud: plan.cloudId,
          actor: "identityId" in op ? op.identityId : undefined,
          operation: op.kind,
          summary: describe(op),
          policies: op.policies,
          runId: deps.runId,
        });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        result.failed.push({ operation: op, code: e.code ?? "sync_failed", message: e.message ?? String(err) });
      }
      deps.onProgress?.(++done, total);
    });
  }
  return result;
}

class ApplyContext {
  private domainId: string | null;
  private readonly userIds = new Map<string, string>();
  private readonly projectIds = new Map<string, string>();
  private readonly groupIds = new Map<string, string>();

  constructor(
    private readonly cloud: Cloud,
    private readonly observed: ObservedCloud,
    private readonly deps: ApplyDeps,
  ) {
    this.domainId = observed.domainId;
    for (const u of observed.users.values()) this.userIds.set(u.identityId, u.id);
    for (const [key, p] of observed.projects) this.projectIds.set(key, p.id);
    for (const [name, g] of observed.groups) this.groupIds.set(name, g.id);
  }

  private get ks() {
    return this.deps.clients.keystone;
  }

  async run(op: Operation): Promise<void> {
    switch (op.kind) {
      case "ensureDomain": {
        const domain = await adoptOnConflict(
          () => this.ks.createDomain({ name: op.name, description: "Archway shadow users, groups and projects" }),
          async () => (await this.ks.listDomains({ name: op.name }))[0],
        );
        this.domainId = domain.id;
        return;
      }
      case "createProject": {
        const domainId = op.domain === this.cloud.domain ? this.requireDomain() : this.observed.domains.get(op.domain);
        if (!domainId) throw new ArchwayError("sync_unresolved", `domain ${op.domain} not found`, 409);
        const body = { name: op.name, domain_id: domainId, description: op.description, tags: op.tags };
        const project = await adoptOnConflict(
          () => this.ks.createProject(body),
          async () =>
            (await this.ks.listProjects({ domainId, name: op.name })).find(
              (p) => projectMark(p, this.deps.ownership).owner === "self",
            ),
        );
        this.projectIds.set(op.key, project.id);
        return;
      }
      case "updateProject":
        await this.ks.updateProject(op.projectId, { description: op.description, tags: op.tags });
        return;
      case "createGroup": {
        const domainId = this.requireDomain();
        const group = await adoptOnConflict(
          () => this.ks.createGroup({ name: op.name, domain_id: domainId, ...extraMarks(this.deps.ownership) }),
          async () =>
            (await this.ks.listGroups({ domainId, name: op.name })).find(
              (g) => extraMark(g, domainId, this.deps.ownership).owner === "self",
            ),
        );
        this.groupIds.set(op.name, group.id);
        return;
      }
      case "markGroup":
        await this.ks.updateGroup(op.groupId, { [DEPLOYMENT_ATTR]: this.deps.ownership.deploymentId });
        return;
      case "createUser": {
        const domainId = this.requireDomain();
        const body = {
          name: op.username,
          domain_id: domainId,
          password: this.password(op.identityId),
          ...(op.email ? { email: op.email } : {}),
          ...(op.displayName ? { description: op.displayName } : {}),
          options: { ...SHADOW_USER_OPTIONS },
          ...extraMarks(this.deps.ownership),
          [IDENTITY_ATTR]: op.identityId,
          [KEY_VERSION_ATTR]: this.deps.keyVersion,
          [KEYS_ATTR]: {},
        };
        const user = await adoptOnConflict(
          () => this.ks.createUser(body),
          async () =>
            (await this.ks.listUsers({ domainId, name: op.username })).find(
              (u) => ownedUser(u, domainId, this.deps.ownership)?.identityId === op.identityId,
            ),
        );
        this.userIds.set(op.identityId, user.id);
        return;
      }
      case "updateUser": {
        const c = op.changes;
        const body: UserWrite = {};
        if (c.name) body.name = c.name;
        if (c.email !== undefined) body.email = c.email || null;
        if (c.description !== undefined) body.description = c.description || null;
        if (c.enable) Object.assign(body, { enabled: true, [DISABLED_AT_ATTR]: null });
        if (c.password)
          Object.assign(body, { password: this.password(op.identityId), [KEY_VERSION_ATTR]: c.password.to });
        if (c.options) body.options = { ...SHADOW_USER_OPTIONS };
        if (c.mark) Object.assign(body, { [DEPLOYMENT_ATTR]: this.deps.ownership.deploymentId });
        await this.ks.updateUser(op.userId, body);
        return;
      }
      case "disableUser":
        // The deployment mark too: an adopted user with the old mark leaves it as this deployment's.
        await this.ks.updateUser(op.userId, {
          enabled: false,
          [DISABLED_AT_ATTR]: this.deps.now().toISOString(),
          [DEPLOYMENT_ATTR]: this.deps.ownership.deploymentId,
        });
        return;
      case "deleteUser": {
        const nova = this.deps.clients.nova();
        for (const name of op.keyNames) await ignoreNotFound(() => nova.deleteKeypair(op.userId, name));
        await ignoreNotFound(() => this.ks.deleteUser(op.userId));
        return;
      }
      case "grant":
        await this.ks.grantProjectRole(
          { userId: this.user(op.identityId) },
          this.resolve(this.projectIds, op.project, "project"),
          this.resolve(this.observed.roles, op.role, "role"),
        );
        return;
      case "revoke":
        await ignoreNotFound(() => this.ks.revokeProjectRole({ userId: op.userId }, op.projectId, op.roleId));
        return;
      case "addMember":
        await this.ks.addUserToGroup(this.resolve(this.groupIds, op.group, "group"), this.user(op.identityId));
        return;
      case "removeMember":
        await ignoreNotFound(() => this.ks.removeUserFromGroup(op.groupId, op.userId));
        return;
      case "importKey": {
        const nova = this.deps.clients.nova();
        const userId = this.user(op.identityId);
        if (op.replace) await ignoreNotFound(() => nova.deleteKeypair(userId, op.name));
        await adoptOnConflict(
          () => nova.importKeypair(userId, op.name, op.publicKey),
          async () =>
            (await nova.listKeypairs(userId)).find((k) => k.name === op.name && sameKey(k.public_key, op.publicKey)),
        );
        return;
      }
      case "deleteKey":
        await ignoreNotFound(() => this.deps.clients.nova().deleteKeypair(op.userId, op.name));
        return;
      case "recordKeys":
        await this.ks.updateUser(this.user(op.identityId), { [KEYS_ATTR]: op.keys });
        return;
      case "grantGroup":
        await this.ks.grantProjectRole(
          { groupId: this.resolve(this.groupIds, op.group, "group") },
          this.resolve(this.projectIds, op.project, "project"),
          this.resolve(this.observed.roles, op.role, "role"),
        );
        return;
      case "revokeGroup":
        await ignoreNotFound(() => this.ks.revokeProjectRole({ groupId: op.groupId }, op.projectId, op.roleId));
        return;
      case "ensureIdentityProvider": {
        const fed = this.deps.clients.federation();
        const body = {
          remote_ids: op.remoteIds,
          enabled: true,
          description: idpMark(this.deps.ownership.deploymentId),
        };
        if (op.create) await fed.createIdentityProvider(op.id, { ...body, domain_id: this.requireDomain() });
        else await fed.updateIdentityProvider(op.id, body);
        return;
      }
      case "ensureMapping": {
        const fed = this.deps.clients.federation();
        if (op.create) await fed.createMapping(op.id, op.rules);
        else await fed.updateMapping(op.id, op.rules);
        return;
      }
      case "ensureProtocol": {
        const fed = this.deps.clients.federation();
        if (op.create) await fed.createProtocol(op.idp, op.id, op.mappingId);
        else await fed.updateProtocol(op.idp, op.id, op.mappingId);
        return;
      }
    }
  }

  private password(identityId: string): string {
    return shadowPassword(this.deps.passwordSecret, this.cloud.id, identityId, this.deps.keyVersion);
  }

  private requireDomain(): string {
    if (!this.domainId) throw new ArchwayError("sync_unresolved", `domain ${this.cloud.domain} was not created`, 409);
    return this.domainId;
  }

  private user(identityId: string): string {
    return this.resolve(this.userIds, identityId, "user of identity");
  }

  private resolve(map: Map<string, string>, key: string, what: string): string {
    const id = map.get(key);
    if (!id) throw new ArchwayError("sync_unresolved", `${what} ${key} does not exist (an earlier step failed)`, 409);
    return id;
  }
}

/** Creates; on 409 (created by an earlier, interrupted run) re-reads and adopts it when it is Archway's. */
async function adoptOnConflict<T>(create: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!isUpstreamStatus(err, 409)) throw err;
    const existing = await find();
    if (existing) return existing;
    throw err;
  }
}

async function ignoreNotFound(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isUpstreamStatus(err, 404)) throw err;
  }
}

function sameKey(a: string, b: string): boolean {
  return a.trim().split(/\s+/).slice(0, 2).join(" ") === b.trim().split(/\s+/).slice(0, 2).join(" ");
}
