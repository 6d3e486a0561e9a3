import type { GlanceClient, ImageMember } from "../../../openstack/index.js";
import { mapLimit } from "../../../openstack/index.js";
import { type ProjectRef, projectLabel } from "../../project-ref.js";
import type { PlanContext } from "../../resource.js";
import { projects } from "../project/index.js";
import type { OwnedImage } from "./marks.js";
import type { WantedImage } from "./observe.js";
import type { ImageOperation, VersionRef } from "./ops.js";

/**
 * Members of Archway's `shared` images, followed every run (docs/images.md, "Sharing"): a `shared` image is shared
 * with exactly the projects Archway grants in the cloud, as far as Archway's own projects go. A member that is not a
 * project Archway owns (shared by hand, or by another tool) is never removed.
 */

/** What reading the members found: image id -> its members; per image that could not be read, why. */
export interface MembersObserved {
  members: Map<string, ImageMember[]>;
  problems: string[];
}

/**
 * Reads the members of the owned images that need them: active, `shared` in Glance, of a set image that asks for
 * `shared`. No other image costs a read. A read that fails leaves that image's members alone this run (a problem).
 */
export async function readMembers(
  glance: GlanceClient,
  owned: readonly OwnedImage[],
  wanted: readonly WantedImage[],
  concurrency: number,
): Promise<MembersObserved> {
  const shared = new Set(
    wanted.filter((w) => w.image.visibility === "shared").map((w) => JSON.stringify([w.set, w.image.name])),
  );
  const toRead = owned.filter(
    (i) => i.status === "active" && i.raw.visibility === "shared" && shared.has(JSON.stringify([i.set, i.image])),
  );
  const out: MembersObserved = { members: new Map(), problems: [] };
  await mapLimit(toRead, Math.max(1, concurrency), async (i) => {
    try {
      out.members.set(i.id, await glance.members(i.id));
    } catch (err) {
      out.problems.push(`image ${i.name} (${i.id}): its members cannot be read: ${(err as Error).message}`);
    }
  });
  return out;
}

/**
 * Member operations of one owned image of a `shared` set image (pure): each granted project that is not an accepted
 * member is shared with; each member that is an Archway-owned project no longer granted is removed. `willBeShared`:
 * the image is being made `shared` by this run (it has no members yet, none were read).
 */
export function memberOps(
  ctx: PlanContext,
  members: ReadonlyMap<string, ImageMember[]> | undefined,
  ref: VersionRef,
  image: OwnedImage,
  willBeShared: boolean,
): ImageOperation[] {
  const current = members?.get(image.id) ?? (willBeShared && image.raw.visibility !== "shared" ? [] : undefined);
  // Not read (a failed read, or an image that is not `shared`): left as it is.
  if (!current) return [];
  const observedProjects = ctx.observed(projects);
  const granted = grantedProjects(ctx);
  const grantedIds = new Set<string>();
  const ops: ImageOperation[] = [];
  const base = { ...ref, imageId: image.id, name: image.name };
  for (const project of granted) {
    const id = observedProjects.get(project)?.id;
    if (id) grantedIds.add(id);
    // A project made by this run has no id yet: certainly not a member.
    const member = id ? current.find((m) => m.member_id === id) : undefined;
    if (member?.status === "accepted") continue;
    ops.push({ kind: "shareImage", ...base, project, policies: [ref.imageSet] });
  }
  const owned = new Map<string, string>();
  for (const [pref, p] of observedProjects.entries()) if (p.owned) owned.set(p.id, projectLabel(pref));
  for (const m of current) {
    const label = owned.get(m.member_id);
    if (label === undefined || grantedIds.has(m.member_id)) continue;
    ops.push({ kind: "unshareImage", ...base, projectId: m.member_id, project: label, policies: [] });
  }
  return ops;
}

/** The projects Archway grants in this cloud, which a `shared` image is shared with (sorted: a stable plan). */
export function grantedProjects(ctx: PlanContext): ProjectRef[] {
  return ctx.input.desired.projects
    .map((p) => ({ domain: p.domain, name: p.name }))
    .sort((a, b) => a.domain.localeCompare(b.domain) || a.name.localeCompare(b.name));
}
