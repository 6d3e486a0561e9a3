import { isArchwayError } from "../../../errors.js";
import type { ImageStatusRow } from "../../../images/index.js";
import type { ImageMember } from "../../../openstack/index.js";
import { type CompiledImage, manifestsOf } from "../../../policy/index.js";
import type { ObserveContext, SyncInput } from "../../resource.js";
import { deploymentFilter, isVerified, type OwnedImage, ownedImage } from "./marks.js";
import { readMembers } from "./members.js";
import type { ResolvedVersion } from "./services.js";

/** What the image resource read from one cloud. */
export interface ImagesObserved {
  /** False when no ImageSet targets the cloud (or a just-in-time run): nothing was read. */
  wanted: boolean;
  /** Why the cloud's Glance could not be read (its images are then pending). */
  down?: { code: string; reason: string };
  /** This deployment's images (one property-filtered list). */
  images: OwnedImage[];
  /** ImageSet -> image -> its source's version. */
  versions: Map<string, Map<string, ResolvedVersion>>;
  /** Image id -> its members, for the owned `shared` images of sets that ask for `shared` (no others are read). */
  members?: Map<string, ImageMember[]>;
  /** Images whose members could not be read (left as they are this run). */
  memberProblems?: string[];
}

/** One image of a set as the cloud should hold it. */
export interface WantedImage {
  set: string;
  image: CompiledImage;
}

/** The images the ImageSets ask of a cloud, in manifest order. */
export function wantedImages(input: Pick<SyncInput, "cloud" | "desired">): WantedImage[] {
  const out: WantedImage[] = [];
  for (const set of manifestsOf(input.desired, "ImageSet"))
    for (const image of set.images)
      if (Object.hasOwn(image.transfer, input.cloud.id)) out.push({ set: set.name, image });
  return out;
}

/**
 * Where an ImageSet targets the cloud: the versions of the sources (resolved once per process run: a file is hashed
 * once per path, size and mtime) and one list of this deployment's images; the status grid gets the cloud's rows.
 * A Glance that does not answer makes its images pending, not the run failed. Elsewhere nothing is read: an image
 * no set asks for any more is left where it is (it may back servers; deleting it is a person's decision).
 */
export async function observeImages(ctx: ObserveContext): Promise<ImagesObserved> {
  const none: ImagesObserved = { wanted: false, images: [], versions: new Map() };
  const wanted = wantedImages(ctx.input);
  if (ctx.opts.people) return none;
  if (wanted.length === 0) {
    // The last set left this cloud: its rows leave the grid (its images stay, see above).
    ctx.images?.observed(ctx.input.cloud.id, []);
    return none;
  }
  const services = ctx.images;
  const versions = new Map<string, Map<string, ResolvedVersion>>();
  const resolving = Promise.all(
    wanted.map(async ({ set, image }) => {
      const resolved: ResolvedVersion = services
        ? await services.resolve(image)
        : { problem: { code: "image_services_missing", reason: "image distribution is not set up in this process" } };
      let bySet = versions.get(set);
      if (!bySet) {
        bySet = new Map();
        versions.set(set, bySet);
      }
      bySet.set(image.name, resolved);
    }),
  );
  let images: OwnedImage[] = [];
  let down: ImagesObserved["down"];
  try {
    const list = await ctx.clients.images().list({ properties: deploymentFilter(ctx.input.ownership) });
    images = list.flatMap((i) => ownedImage(i, ctx.input.ownership) ?? []);
  } catch (err) {
    down = {
      code: isArchwayError(err) ? err.code : "cloud_unavailable",
      reason: `Glance of cloud ${ctx.input.cloud.id} cannot be read: ${(err as Error).message}`,
    };
  }
  const shared = down ? undefined : await readMembers(ctx.clients.images(), images, wanted, ctx.clients.limiter.max);
  await resolving;
  const observed: ImagesObserved = {
    wanted: true,
    images,
    versions,
    ...(down ? { down } : {}),
    ...(shared ? { members: shared.members, memberProblems: shared.problems } : {}),
  };
  services?.observed(ctx.input.cloud.id, statusRows(ctx.input.cloud.id, wanted, observed));
  return observed;
}

/** The grid's rows of one cloud after observe: present, pending (missing or cloud down) or failed (no version). */
export function statusRows(
  cloudId: string,
  wanted: readonly WantedImage[],
  observed: ImagesObserved,
): Omit<ImageStatusRow, "updatedAt">[] {
  return wanted.map(({ set, image }) => {
    const resolved = observed.versions.get(set)?.get(image.name);
    const version = resolved?.version ?? "unknown";
    const base = { imageSet: set, image: image.name, version, cloudId };
    if (!resolved?.version) return { ...base, state: "failed" as const, ...(resolved?.problem ?? {}) };
    if (observed.down) return { ...base, state: "pending" as const, ...observed.down };
    const present = observed.images.find((i) => i.set === set && i.image === image.name && isVerified(i, version));
    if (present)
      return {
        ...base,
        state: "present" as const,
        imageId: present.id,
        ...(present.raw.size ? { bytesDone: present.raw.size, totalBytes: present.raw.size } : {}),
      };
    return { ...base, state: "pending" as const, code: "image_missing", reason: "to be transferred by this run" };
  });
}
