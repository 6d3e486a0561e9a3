import { imageProperties } from "../../../openstack/index.js";
import type { CompiledImage } from "../../../policy/index.js";
import type { PlanContext, Planned } from "../../resource.js";
import { images } from "./index.js";
import { isVerified, type OwnedImage, versionedName } from "./marks.js";
import { grantedProjects, memberOps } from "./members.js";
import { type ImagesObserved, wantedImages } from "./observe.js";
import type { ImageFields, ImageOperation, SourceRef, VersionRef } from "./ops.js";

/** An unfinished image of Archway's younger than this may be a transfer still running elsewhere: left alone. */
export const LEFTOVER_AGE_MS = 10 * 60_000;
const UNFINISHED = new Set(["queued", "saving", "uploading", "importing", "killed"]);

/**
 * Images, per ImageSet image in the cloud (docs/sync.md, "Images"): the source's version missing -> transfer it;
 * present and verified -> nothing, or a rename / field update when the set changed; copies failing verification and
 * duplicates deleted; versions beyond `keep` deleted, newest first kept (deletions, under `maxDeletesPerRun`; a
 * retirement waits for the new version to arrive); Archway's unfinished leftovers deleted. Only this deployment's
 * marked images are ever touched; a down Glance makes everything pending (a problem, no operation).
 */
export function planImages(ctx: PlanContext): Planned<ImageOperation> {
  const operations: ImageOperation[] = [];
  const problems: string[] = [];
  if (ctx.opts.people) return { operations };
  const observed = ctx.observed(images);
  if (!observed.wanted) return { operations };
  if (observed.down) return { operations, problems: [`${observed.down.reason}: its images are pending`] };
  const now = ctx.opts.now.getTime();
  for (const img of observed.images) {
    if (!UNFINISHED.has(img.status)) continue;
    const age = now - Date.parse(img.updatedAt);
    if (!(age >= LEFTOVER_AGE_MS)) continue;
    operations.push(deletion(img, "leftover"));
  }
  problems.push(...(observed.memberProblems ?? []));
  const wanted = wantedImages(ctx.input);
  const names = new Map<string, string[]>();
  for (const w of wanted) names.set(w.image.name, [...(names.get(w.image.name) ?? []), w.set]);
  for (const { set, image } of wanted) {
    const sets = names.get(image.name) ?? [];
    if (sets.length > 1) {
      problems.push(
        `image ${image.name} is asked for by ImageSets ${sets.sort().join(", ")}: not synced until one renames it`,
      );
      continue;
    }
    const resolved = observed.versions.get(set)?.get(image.name);
    if (!resolved?.version || !resolved.source) {
      problems.push(
        `image ${image.name} (ImageSet ${set}): ${resolved?.problem?.reason ?? "its source's version is unknown"}; nothing changed`,
      );
      continue;
    }
    operations.push(...planOne(ctx, observed, set, image, resolved.version, resolved.source));
  }
  return { operations, problems };
}

function planOne(
  ctx: PlanContext,
  observed: ImagesObserved,
  set: string,
  image: CompiledImage,
  version: string,
  source: SourceRef,
): ImageOperation[] {
  const ops: ImageOperation[] = [];
  const ref: VersionRef = { imageSet: set, image: image.name, version };
  const policies = [set];
  const mine = observed.images
    .filter((i) => i.set === set && i.image === image.name && i.status === "active")
    .sort(newestFirst);
  const current = mine.filter((i) => i.version === version);
  const present = current.find((i) => isVerified(i, version));
  for (const i of current) {
    if (i === present) continue;
    ops.push(deletion(i, isVerified(i, version) ? "duplicate" : "mismatch"));
  }
  // Older versions, newest first: one per version (the newest copy), duplicates of an old version go too.
  const older: OwnedImage[] = [];
  for (const i of mine) {
    if (i.version === version) continue;
    if (older.some((o) => o.version === i.version)) ops.push(deletion(i, "duplicate"));
    else older.push(i);
  }
  const fields = fieldsOf(image);
  if (!present) {
    const holder = older.find((o) => o.name === image.name);
    const mode = image.transfer[ctx.input.cloud.id] ?? { mode: "stream" as const };
    ops.push({
      kind: "transferImage",
      ...ref,
      source,
      fields,
      mode: mode.mode,
      ...(mode.mode === "pull" ? { pullUrl: mode.url } : {}),
      ...(holder ? { demote: { imageId: holder.id, name: versionedName(image.name, holder.version) } } : {}),
      members: image.visibility === "shared" ? grantedProjects(ctx) : [],
      policies,
    });
  } else {
    if (present.name !== image.name)
      ops.push({ kind: "renameImage", ...ref, imageId: present.id, from: present.name, to: image.name, policies });
    const changes = fieldChanges(present, fields);
    if (Object.keys(changes).length > 0)
      ops.push({ kind: "updateImage", ...ref, imageId: present.id, name: image.name, changes, policies });
    if (image.visibility === "shared") ops.push(...memberOps(ctx, observed.members, ref, present, true));
  }
  older.forEach((o, i) => {
    // keep counts the wanted version too: keep 2 = the newest and one older version.
    if (i + 1 < image.keep) {
      // A kept older version stays shared with the granted projects only (it is not made `shared` if it is not).
      if (image.visibility === "shared")
        ops.push(...memberOps(ctx, observed.members, { ...ref, version: o.version }, o, false));
      const name = versionedName(image.name, o.version);
      // While the new version is not there, the previous one keeps the plain name (the transfer renames it).
      if (o.name !== name && (present || o.name !== image.name))
        ops.push({ kind: "renameImage", ...ref, version: o.version, imageId: o.id, from: o.name, to: name, policies });
      return;
    }
    ops.push({ ...deletion(o, "retired"), ...(present ? {} : { afterVersion: version }) });
  });
  return ops;
}

function deletion(i: OwnedImage, reason: "retired" | "leftover" | "mismatch" | "duplicate"): ImageOperation {
  return {
    kind: "deleteImage",
    imageSet: i.set,
    image: i.image,
    version: i.version,
    imageId: i.id,
    name: i.name,
    reason,
    protected: i.protected,
    policies: [],
  };
}

/** Newest first (created_at), then by id: the same order in every run. */
function newestFirst(a: OwnedImage, b: OwnedImage): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The Glance fields an image of the set is created with and kept at. */
export function fieldsOf(image: CompiledImage): ImageFields {
  return {
    diskFormat: image.diskFormat,
    containerFormat: image.containerFormat,
    visibility: image.visibility,
    protected: image.protected,
    minDisk: image.minDisk,
    minRam: image.minRam,
    properties: image.properties,
  };
}

/**
 * What to change on a present image so it matches the set: visibility, protection, min disk/RAM and the set's
 * properties (formats cannot change once data is in: a new format is a new source, so a new version). Properties
 * the set no longer lists are left: Glance and people add their own.
 */
function fieldChanges(present: OwnedImage, want: ImageFields): Record<string, string | number | boolean | null> {
  const raw = present.raw;
  const out: Record<string, string | number | boolean | null> = {};
  if (raw.visibility !== want.visibility) out.visibility = want.visibility;
  if ((raw.protected ?? false) !== want.protected) out.protected = want.protected;
  if ((raw.min_disk ?? 0) !== want.minDisk) out.min_disk = want.minDisk;
  if ((raw.min_ram ?? 0) !== want.minRam) out.min_ram = want.minRam;
  const props = imageProperties(raw);
  for (const [k, v] of Object.entries(want.properties)) if (props[k] !== v) out[k] = v;
  return out;
}
