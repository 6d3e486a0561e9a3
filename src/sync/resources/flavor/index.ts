import { ArchwayError } from "../../../errors.js";
import { type ExtraSpecs, type Flavor, isUpstreamStatus } from "../../../openstack/index.js";
import type { ProjectRef } from "../../project-ref.js";
import { projectLabel } from "../../project-ref.js";
import type { ApplyContext, SyncResource } from "../../resource.js";
import { adoptOnConflict, ignoreNotFound } from "../idempotent.js";
import { projectIdOf } from "../project/index.js";
import { flavorMark } from "./marks.js";
import { type FlavorsObserved, observeFlavors } from "./observe.js";
import { planFlavors } from "./plan.js";

/** A flavor's fields Nova cannot change in place: a change means delete and create again. */
export interface FlavorShape {
  vcpus: number;
  /** MiB. */
  ram: number;
  /** GiB. */
  disk: number;
  /** GiB. */
  ephemeral: number;
  /** MiB. */
  swap: number;
  isPublic: boolean;
}

/** Creates a flavor a FlavorSet asks for, with Archway's marks among its extra specs. */
export interface CreateFlavor extends FlavorShape {
  kind: "createFlavor";
  name: string;
  description: string | null;
  /** The set's extra specs and Archway's marks. */
  extraSpecs: ExtraSpecs;
  policies: string[];
}

/** Deletes an owned flavor whose size or visibility changed and creates it again (destructive). */
export interface RecreateFlavor extends Omit<CreateFlavor, "kind"> {
  kind: "recreateFlavor";
  flavorId: string;
  /** The fields that changed, for the plan's reader. */
  changed: string[];
}

/** Changes an owned flavor in place: its description and extra specs (a field absent stays as it is). */
export interface UpdateFlavor {
  kind: "updateFlavor";
  name: string;
  flavorId: string;
  description?: string | null;
  /** Extra specs to add or overwrite. */
  set?: ExtraSpecs;
  /** Extra specs to remove. */
  unset?: string[];
  policies: string[];
}

/** Lets a project use an owned private flavor. */
export interface GrantFlavor {
  kind: "grantFlavor";
  flavor: string;
  project: ProjectRef;
  policies: string[];
}

/** Takes an owned private flavor away from a project no set names for it any more. */
export interface RevokeFlavor {
  kind: "revokeFlavor";
  flavor: string;
  flavorId: string;
  projectId: string;
  /** `<domain>/<name>` when known, else the id. */
  project: string;
  policies: string[];
}

/** Deletes an owned flavor no FlavorSet asks for any more. */
export interface DeleteFlavor {
  kind: "deleteFlavor";
  name: string;
  flavorId: string;
  policies: string[];
}

/** The operations on Nova flavors. */
export type FlavorOperation = CreateFlavor | RecreateFlavor | UpdateFlavor | GrantFlavor | RevokeFlavor | DeleteFlavor;

/**
 * Flavors of the FlavorSets that target a cloud (docs/sync.md, "Flavors"). Only flavors carrying this deployment's
 * mark are changed or deleted; a flavor of a desired name without it is a plan problem, never adopted.
 */
export const flavors: SyncResource<FlavorOperation, FlavorsObserved> = {
  name: "flavor",
  observe: observeFlavors,
  plan: planFlavors,
  steps: {
    createFlavor: {
      phase: "objects",
      action: () => "create",
      describe: (op) => `create flavor ${op.name} (${shape(op)})`,
      async apply(ctx, op) {
        await createFlavor(ctx, op);
      },
    },
    recreateFlavor: {
      phase: "objects",
      action: () => "update",
      // Nova cannot resize a flavor: the old one goes (servers keep their copy of it), which is a deletion.
      destructive: () => true,
      describe: (op) => `recreate flavor ${op.name} (${op.changed.join(", ")} changed: ${shape(op)})`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.flavors().delete(op.flavorId));
        await createFlavor(ctx, op);
      },
    },
    updateFlavor: {
      phase: "objects",
      action: () => "update",
      describe: (op) =>
        `update flavor ${op.name} (${[
          op.description !== undefined && "description",
          op.set && `set ${Object.keys(op.set).join(", ")}`,
          op.unset && `unset ${op.unset.join(", ")}`,
        ]
          .filter(Boolean)
          .join("; ")})`,
      async apply(ctx, op) {
        const nova = ctx.clients.flavors();
        if (op.description !== undefined) await nova.updateDescription(op.flavorId, op.description);
        if (op.set) await nova.setExtraSpecs(op.flavorId, op.set);
        for (const key of op.unset ?? []) await ignoreNotFound(() => nova.unsetExtraSpec(op.flavorId, key));
      },
    },
    grantFlavor: {
      phase: "links",
      action: () => "create",
      describe: (op) => `give project ${projectLabel(op.project)} flavor ${op.flavor}`,
      async apply(ctx, op) {
        const flavorId = flavorIdOf(ctx, op.flavor);
        const projectId = ctx.observed(flavors).projectIds.get(op.project) ?? projectIdOf(ctx, op.project);
        try {
          await ctx.clients.flavors().addAccess(flavorId, projectId);
        } catch (err) {
          // 409: the project already has it (an earlier, interrupted run).
          if (!isUpstreamStatus(err, 409)) throw err;
        }
      },
    },
    revokeFlavor: {
      phase: "unlinks",
      action: () => "revoke",
      describe: (op) => `take flavor ${op.flavor} from project ${op.project}`,
      async apply(ctx, op) {
        await ignoreNotFound(async () => {
          await ctx.clients.flavors().removeAccess(op.flavorId, op.projectId);
        });
      },
    },
    deleteFlavor: {
      phase: "delete",
      action: () => "delete",
      describe: (op) => `delete flavor ${op.name}`,
      async apply(ctx, op) {
        await ignoreNotFound(() => ctx.clients.flavors().delete(op.flavorId));
      },
    },
  },
};

function shape(f: FlavorShape): string {
  const extra = [f.ephemeral && `ephemeral ${f.ephemeral} GiB`, f.swap && `swap ${f.swap} MiB`].filter(Boolean);
  return [`${f.vcpus} vCPU`, `${f.ram} MiB`, `disk ${f.disk} GiB`, ...extra, f.isPublic ? "public" : "private"].join(
    ", ",
  );
}

/**
 * Creates the flavor, then writes its extra specs and marks. Nova creates a flavor without extra specs, so a failed
 * second call would leave a flavor without Archway's mark that no run could fix: it is deleted again.
 */
async function createFlavor(ctx: ApplyContext, op: CreateFlavor | RecreateFlavor): Promise<void> {
  const nova = ctx.clients.flavors();
  const { name, vcpus, ram, disk, ephemeral, swap, isPublic } = op;
  const body = {
    name,
    vcpus,
    ram,
    disk,
    ephemeral,
    swap,
    isPublic,
    ...(op.description !== null ? { description: op.description } : {}),
  };
  const flavor = await adoptOnConflict<Flavor>(
    () => nova.create(body),
    // 409: an earlier, interrupted run made it; Archway's own (marked) is taken up again, anything else is not.
    async () =>
      (await nova.list()).find((f) => f.name === name && flavorMark(f.extraSpecs, ctx.ownership).owner === "self"),
  );
  try {
    await nova.setExtraSpecs(flavor.id, op.extraSpecs);
  } catch (err) {
    await ignoreNotFound(() => nova.delete(flavor.id)).catch(() => {});
    throw err;
  }
  flavorIds(ctx).set(name, flavor.id);
}

/** Flavor ids by name during an apply run: observed, plus those created in this run. */
function flavorIds(ctx: ApplyContext): Map<string, string> {
  return ctx.memo(observedFlavorIds);
}

function observedFlavorIds(ctx: ApplyContext): Map<string, string> {
  return new Map([...ctx.observed(flavors).byName].map(([name, f]) => [name, f.id]));
}

function flavorIdOf(ctx: ApplyContext, name: string): string {
  const id = flavorIds(ctx).get(name);
  if (!id) throw new ArchwayError("sync_unresolved", `flavor ${name} does not exist (an earlier step failed)`, 409);
  return id;
}

export { ARCHWAY_SPEC_PREFIX, FLAVOR_MARK, FLAVOR_SET_MARK, flavorMark, flavorMarks } from "./marks.js";
export type { FlavorsObserved, ObservedFlavor } from "./observe.js";
