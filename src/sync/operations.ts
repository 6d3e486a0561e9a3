/**
 * The typed operations of a sync plan. Each says what it changes, in which cloud, and which policies caused it
 * (empty for removals: they happen because no policy asks for the object any more).
 */
export type Operation =
  | { kind: "ensureDomain"; name: string; policies: string[] }
  | {
      kind: "createProject";
      key: string;
      name: string;
      domain: string;
      description: string;
      tags: string[];
      policies: string[];
    }
  | {
      kind: "updateProject";
      key: string;
      projectId: string;
      description?: string;
      tags?: string[];
      policies: string[];
    }
  | {
      kind: "createUser";
      identityId: string;
      username: string;
      email?: string;
      displayName?: string;
      policies: string[];
    }
  | {
      kind: "updateUser";
      identityId: string;
      userId: string;
      username: string;
      changes: UserChanges;
      policies: string[];
    }
  | { kind: "disableUser"; identityId: string; userId: string; username: string; policies: string[] }
  | {
      kind: "deleteUser";
      identityId: string;
      userId: string;
      username: string;
      /** Keypairs Archway put in Nova for the user, deleted first (Nova does not notice deleted users). */
      keyNames: string[];
      policies: string[];
    }
  | { kind: "grant"; identityId: string; username: string; project: string; role: string; policies: string[] }
  | {
      kind: "revoke";
      identityId: string;
      userId: string;
      username: string;
      projectId: string;
      project: string;
      roleId: string;
      role: string;
      policies: string[];
    }
  | { kind: "createGroup"; name: string; policies: string[] }
  /** A group with the old mark, adopted (`sync.adoptUnmarked`): write this deployment's mark. */
  | { kind: "markGroup"; name: string; groupId: string; policies: string[] }
  | { kind: "addMember"; group: string; identityId: string; username: string; policies: string[] }
  | { kind: "removeMember"; group: string; groupId: string; userId: string; username: string; policies: string[] }
  | {
      kind: "importKey";
      identityId: string;
      username: string;
      name: string;
      publicKey: string;
      fingerprint: string;
      /** An older key of Archway's holds the name: delete it first. */
      replace: boolean;
      policies: string[];
    }
  | { kind: "deleteKey"; identityId: string; userId: string; username: string; name: string; policies: string[] }
  | { kind: "recordKeys"; identityId: string; username: string; keys: Record<string, string>; policies: string[] }
  // Federated clouds: roles go to groups, and Keystone trusts Archway through these three objects.
  | { kind: "grantGroup"; group: string; project: string; role: string; policies: string[] }
  | {
      kind: "revokeGroup";
      group: string;
      groupId: string;
      projectId: string;
      project: string;
      roleId: string;
      role: string;
      policies: string[];
    }
  | { kind: "ensureIdentityProvider"; id: string; remoteIds: string[]; create: boolean; policies: string[] }
  | { kind: "ensureMapping"; id: string; rules: unknown[]; create: boolean; policies: string[] }
  | { kind: "ensureProtocol"; idp: string; id: string; mappingId: string; create: boolean; policies: string[] };

/** What an `updateUser` changes; `password` means "derive with the current key version". */
export interface UserChanges {
  name?: string;
  email?: string;
  description?: string;
  enable?: boolean;
  password?: { from: number; to: number };
  options?: boolean;
  /** Adopted with the old mark: write this deployment's mark. */
  mark?: boolean;
}

/** The verbs a person reads in `archway sync plan`. */
export type Action = "create" | "update" | "revoke" | "disable" | "delete";

/** The verb of an operation. */
export function actionOf(op: Operation): Action {
  switch (op.kind) {
    case "ensureDomain":
    case "createProject":
    case "createUser":
    case "grant":
    case "createGroup":
    case "addMember":
    case "grantGroup":
      return "create";
    case "ensureIdentityProvider":
    case "ensureMapping":
    case "ensureProtocol":
      return op.create ? "create" : "update";
    case "importKey":
      return op.replace ? "update" : "create";
    case "updateProject":
    case "updateUser":
    case "recordKeys":
    case "markGroup":
      return "update";
    case "revoke":
    case "removeMember":
    case "revokeGroup":
      return "revoke";
    case "disableUser":
      return "disable";
    case "deleteUser":
    case "deleteKey":
      return "delete";
  }
}

/**
 * True for operations that take something away (revoke, disable, delete, key replacement): these count against
 * `maxDeletesPerRun`, because a wrong policy or an empty directory would otherwise strip a cloud in one run.
 */
export function isDestructive(op: Operation): boolean {
  const a = actionOf(op);
  return a === "revoke" || a === "disable" || a === "delete" || (op.kind === "importKey" && op.replace);
}

/** One line a person can read: `create user alice`, `revoke member on Default/ops from bob`. */
export function describe(op: Operation): string {
  switch (op.kind) {
    case "ensureDomain":
      return `create domain ${op.name}`;
    case "createProject":
      return `create project ${op.key}`;
    case "updateProject":
      return `update project ${op.key} (${[op.description !== undefined && "description", op.tags && "tags"].filter(Boolean).join(", ")})`;
    case "createUser":
      return `create user ${op.username}`;
    case "updateUser": {
      const c = op.changes;
      const what = [
        c.name && `rename to ${c.name}`,
        c.email !== undefined && "email",
        c.description !== undefined && "display name",
        c.enable && "enable",
        c.password && `reset password (key v${c.password.from} -> v${c.password.to})`,
        c.options && "user options",
        c.mark && "mark as this deployment's",
      ].filter(Boolean);
      return `update user ${op.username} (${what.join(", ")})`;
    }
    case "disableUser":
      return `disable user ${op.username} (no policy grants anything any more)`;
    case "deleteUser":
      return `delete user ${op.username} (disabled longer than the grace period)`;
    case "grant":
      return `grant ${op.role} on ${op.project} to ${op.username}`;
    case "revoke":
      return `revoke ${op.role} on ${op.project} from ${op.username}`;
    case "createGroup":
      return `create group ${op.name}`;
    case "markGroup":
      return `mark group ${op.name} as this deployment's (adopted)`;
    case "addMember":
      return `add ${op.username} to group ${op.group}`;
    case "removeMember":
      return `remove ${op.username} from group ${op.group}`;
    case "importKey":
      return `${op.replace ? "replace" : "import"} keypair '${op.name}' of ${op.username} (${op.fingerprint})`;
    case "deleteKey":
      return `delete keypair '${op.name}' of ${op.username}`;
    case "recordKeys":
      return `record keypairs of ${op.username}`;
    case "grantGroup":
      return `grant ${op.role} on ${op.project} to group ${op.group}`;
    case "revokeGroup":
      return `revoke ${op.role} on ${op.project} from group ${op.group}`;
    case "ensureIdentityProvider":
      return `${op.create ? "create" : "update"} identity provider ${op.id} (remote_ids ${op.remoteIds.join(", ")})`;
    case "ensureMapping":
      return `${op.create ? "create" : "update"} mapping ${op.id} (${op.rules.length} rule${op.rules.length === 1 ? "" : "s"})`;
    case "ensureProtocol":
      return `${op.create ? "create" : "update"} protocol ${op.id} of ${op.idp} -> mapping ${op.mappingId}`;
  }
}
