import { ArchwayError } from "../../../errors.js";
import type { GlanceClient } from "../../../openstack/index.js";
import { projectLabel } from "../../project-ref.js";
import type { ApplyContext, SyncResource } from "../../resource.js";
import { ignoreNotFound } from "../idempotent.js";
import { projectIdOf } from "../project/index.js";
import { IMAGE_DEPLOYMENT, imageMarks } from "./marks.js";
import { type ImagesObserved, observeImages } from "./observe.js";
import type { ImageOperation, TransferImage, VersionRef } from "./ops.js";
import { planImages } from "./plan.js";

/**
 * Glance images of the ImageSets that target a cloud (docs/sync.md, "Images"). Only images carrying this
 * deployment's mark (`archway_deployment`) are listed, renamed or deleted; hand-made images never are.
 */
export const images: SyncResource<ImageOperation, ImagesObserved> = {
  name: "image",
  observe: observeImages,
  plan: planImages,
  steps: {
    transferImage: {
      phase: "objects",
      action: () => "create",
      describe: (op) =>
        `${op.mode} image ${op.image} version ${short(op.version)} (ImageSet ${op.imageSet}) from ${sourceText(op)}`,
      async apply(ctx, op) {
        await transferImage(ctx, op);
      },
    },
    renameImage: {
      phase: "links",
      action: () => "update",
      describe: (op) => `rename image ${op.from} to ${op.to}`,
      async apply(ctx, op) {
        const glance = ctx.clients.images();
        if (op.to === op.image) await checkNameFree(ctx, glance, op);
        await glance.update(op.imageId, { name: op.to });
      },
    },
    updateImage: {
      phase: "objects",
      action: () => "update",
      describe: (op) => `update image ${op.name} (${Object.keys(op.changes).sort().join(", ")})`,
      async apply(ctx, op) {
        await ctx.clients.images().update(op.imageId, op.changes);
      },
    },
    shareImage: {
      phase: "links",
      action: () => "create",
      describe: (op) => `share image ${op.name} with project ${projectLabel(op.project)}`,
      async apply(ctx, op) {
        await ctx.clients.images().share(op.imageId, projectIdOf(ctx, op.project));
      },
    },
    unshareImage: {
      phase: "unlinks",
      action: () => "revoke",
      describe: (op) => `stop sharing image ${op.name} with project ${op.project} (no longer granted)`,
      async apply(ctx, op) {
        await ctx.clients.images().unshare(op.imageId, op.projectId);
      },
    },
    deleteImage: {
      phase: "delete",
      action: () => "delete",
      describe: (op) => `delete image ${op.name} (${REASONS[op.reason]})`,
      async apply(ctx, op) {
        if (op.afterVersion && !arrived(ctx).has(JSON.stringify([op.imageSet, op.image, op.afterVersion])))
          throw new ArchwayError(
            "image_retire_deferred",
            `image ${op.name} kept: version ${short(op.afterVersion)} of ${op.image} did not arrive in this run`,
            409,
          );
        await ignoreNotFound(() => ctx.clients.images().delete(op.imageId, { unprotect: op.protected }));
      },
    },
  },
};

const REASONS = {
  retired: "a version beyond the ImageSet's keep",
  leftover: "an unfinished transfer",
  mismatch: "its digest is not its version's",
  duplicate: "a second copy of one version",
} as const;

/** `sha512:abcdef012345…`: enough of a version for a person to tell it apart. */
function short(version: string): string {
  return `${version.slice(0, version.indexOf(":") + 13)}…`;
}

function sourceText(op: TransferImage): string {
  if (op.source.kind === "file") return `file ${op.source.path}`;
  if (op.source.kind === "golden") return `cloud ${op.source.cloudId} image ${op.source.imageId}`;
  const u = new URL(op.source.url);
  u.username = "";
  u.password = "";
  return op.mode === "pull" && op.pullUrl ? `${op.pullUrl} (pulled)` : u.toString();
}

/** The versions this apply run put in the cloud (so a retirement knows the new version arrived). */
function arrived(ctx: ApplyContext): Set<string> {
  return ctx.memo(arrivals);
}
function arrivals(): Set<string> {
  return new Set();
}

/**
 * Transfers the version (joined with other clouds' transfers of it into one wave), then gives it the plain name:
 * the image that held it (an older version) is renamed first, then the new one, so at no moment do two images
 * share the plain name. A `shared` image is shared with the cloud's Archway projects (later runs keep its members
 * following the grants: `shareImage`, `unshareImage`).
 */
async function transferImage(ctx: ApplyContext, op: TransferImage): Promise<void> {
  const services = ctx.images;
  if (!services) throw new ArchwayError("image_services_missing", "image distribution is not set up", 500);
  const glance = ctx.clients.images();
  const mark = imageMarks(ctx.ownership, op.imageSet, op.image, op.version);
  const outcome = await services.transfer(ctx.cloud.id, glance, op, mark);
  if (!outcome.ok) throw new ArchwayError(outcome.code, outcome.reason, 502);
  arrived(ctx).add(JSON.stringify([op.imageSet, op.image, op.version]));
  for (const ref of op.members) await glance.share(outcome.imageId, projectIdOf(ctx, ref));
  await checkNameFree(ctx, glance, op);
  if (op.demote)
    await ignoreNotFound(async () => void (await glance.update(op.demote?.imageId ?? "", { name: op.demote?.name })));
  await glance.update(outcome.imageId, { name: op.image });
}

/**
 * Refuses to give an image its plain name while an image that is not this deployment's holds it: `openstack server
 * create --image <name>` would then find two. The new version stays under its versioned name until the other goes.
 */
async function checkNameFree(ctx: ApplyContext, glance: GlanceClient, ref: VersionRef): Promise<void> {
  const holders = await glance.list({ name: ref.image });
  const foreign = holders.filter(
    (i) => (i as Record<string, unknown>)[IMAGE_DEPLOYMENT] !== ctx.ownership.deploymentId,
  );
  if (foreign.length > 0)
    throw new ArchwayError(
      "image_name_taken",
      `image ${ref.image} in cloud ${ctx.cloud.id} is held by an image that is not Archway's (${foreign.map((i) => i.id).join(", ")}): version ${short(ref.version)} stays under its versioned name`,
      409,
    );
}

export { type DistributorOptions, ImageDistributor } from "./distributor.js";
export { imageMarks, isVerified, versionedName } from "./marks.js";
export type { ImagesObserved } from "./observe.js";
export type { ImageOperation } from "./ops.js";
export type { ImageServices } from "./services.js";
