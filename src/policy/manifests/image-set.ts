import { z } from "zod";
import type { Cloud } from "../../config/index.js";
import { type Problem, selectClouds } from "../clouds.js";
import { type CloudSelector, CloudSelectorSchema, MetadataSchema } from "../common-schema.js";
import type { CompiledManifestBase } from "./base.js";

const Hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-fA-F]{${n}}$`), `expected ${n} hex digits`);
const HttpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });

/**
 * Where an image's bytes come from: a local file (absolute path), an http(s) URL pinned by its sha256 or sha512
 * (a URL can change under Archway's feet: the pin is what makes two reads the same image), or an image in a
 * "golden" cloud's Glance (by name or id; its `os_hash_value` is the version).
 */
export const ImageSourceSpecSchema = z.union([
  z.object({ file: z.string().startsWith("/", "an absolute path") }).strict(),
  z
    .object({ url: HttpUrl, sha256: Hex(64).optional(), sha512: Hex(128).optional() })
    .strict()
    .refine((s) => (s.sha256 === undefined) !== (s.sha512 === undefined), {
      message: "a URL source needs exactly one pin: sha256 or sha512",
      path: ["sha256"],
    }),
  z.object({ cloud: z.string().min(1), image: z.string().min(1) }).strict(),
]);
export type ImageSourceSpec = z.infer<typeof ImageSourceSpecSchema>;

/** Glance custom property keys Archway keeps for its marks (`archway_*`) and Glance's own reserved `os_glance_*`. */
const PropertyKey = z
  .string()
  .regex(/^[A-Za-z0-9_:.-]{1,255}$/, "property keys: letters, digits, _ : . -, at most 255")
  .refine((k) => !k.startsWith("archway_"), "properties under archway_ are Archway's ownership marks")
  .refine((k) => !k.startsWith("os_glance"), "os_glance* properties are Glance's own");

/** How the image reaches each cloud: streamed through Archway (default) or pulled by the cloud (`web-download`). */
export const ImageTransferSpecSchema = z
  .object({
    /** The mode of every targeted cloud, except those `pull` selects. */
    mode: z.enum(["stream", "pull"]).default("stream"),
    /** Clouds that pull the image themselves (names, globs, labels, exclusions), whatever `mode` says. */
    pull: CloudSelectorSchema.optional(),
    /** Pulling clouds: a mirror near them, by the value of one of their labels (default: the source URL). */
    mirrors: z
      .object({ label: z.string().min(1), urls: z.record(z.string(), HttpUrl) })
      .strict()
      .optional(),
  })
  .strict();

/** One image of an ImageSet: Glance's fields, plus where it comes from and how many versions stay. */
export const ImageSpecSchema = z
  .object({
    /** Glance name of the newest version (older ones are `<name>@<12 hex of their digest>`). */
    name: z
      .string()
      .min(1)
      .max(200)
      .refine((n) => !n.includes("@"), "'@' separates a name from its version; choose another name"),
    source: ImageSourceSpecSchema,
    diskFormat: z.enum(["raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx", "iso", "ploop", "ami", "ari", "aki"]),
    containerFormat: z.enum(["bare", "ovf", "ova", "docker", "compressed", "ami", "ari", "aki"]).default("bare"),
    /** Custom properties (`os_distro`, `hw_disk_bus`, ...), values as strings. */
    properties: z.record(PropertyKey, z.string().max(255)).default({}),
    /** `shared`: shared with the projects Archway grants in each cloud. Default `private` (admins only). */
    visibility: z.enum(["public", "community", "shared", "private"]).default("private"),
    protected: z.boolean().default(false),
    /** GiB. */
    minDisk: z.number().int().min(0).default(0),
    /** MiB. */
    minRam: z.number().int().min(0).default(0),
    /** Versions kept in each cloud, the newest included (a new source digest makes a new version). */
    keep: z.number().int().min(1).max(100).default(2),
    transfer: ImageTransferSpecSchema.default({ mode: "stream" }),
  })
  .strict();
export type ImageSpec = z.infer<typeof ImageSpecSchema>;

/**
 * `kind: ImageSet`: Glance images every targeted cloud holds, each from one source, verified by digest, with its
 * last `keep` versions. Archway creates, renames and deletes only the images it marked; hand-made images (and
 * those of another deployment) are never touched.
 */
export const ImageSetSchema = z
  .object({
    apiVersion: z.literal("archway.dev/v1"),
    kind: z.literal("ImageSet"),
    metadata: MetadataSchema,
    spec: z
      .object({
        clouds: CloudSelectorSchema.default({}),
        images: z.array(ImageSpecSchema).min(1),
      })
      .strict(),
  })
  .strict();
export type ImageSetManifest = z.infer<typeof ImageSetSchema>;

/** How one cloud gets an image: streamed, or pulled from `url`. */
export type ImageTransferMode = { mode: "stream" } | { mode: "pull"; url: string };

/** One image of a compiled ImageSet, with the mode of each of its clouds. */
export interface CompiledImage extends Omit<ImageSpec, "transfer"> {
  /** Per targeted cloud id (a golden source's own cloud is not a target). */
  transfer: Record<string, ImageTransferMode>;
}

/** An ImageSet with its clouds resolved. */
export interface CompiledImageSet extends CompiledManifestBase {
  kind: "ImageSet";
  images: CompiledImage[];
}

/** Resolves an ImageSet's clouds and each image's transfer mode per cloud; checks names and pull sources. */
export function compileImageSet(
  m: ImageSetManifest,
  clouds: readonly Cloud[],
  problem: Problem,
  origin: string,
): CompiledImageSet {
  const targets = selectClouds(m.spec.clouds, clouds, problem);
  const seen = new Set<string>();
  const images = m.spec.images.map((img, i): CompiledImage => {
    const at = ["spec", "images", i];
    if (seen.has(img.name)) problem([...at, "name"], `image '${img.name}' is listed twice in this set`);
    seen.add(img.name);
    const src = img.source;
    if ("cloud" in src && !clouds.some((c) => c.id === src.cloud))
      problem([...at, "source", "cloud"], `unknown cloud '${src.cloud}'`);
    const pulling = img.transfer.pull
      ? new Set(selectAt(img.transfer.pull, clouds, problem, [...at, "transfer", "pull"]).map((c) => c.id))
      : undefined;
    const transfer: Record<string, ImageTransferMode> = {};
    for (const cloud of targets) {
      // A golden cloud already holds the image (hand-made, never Archway's): it is a source, not a target.
      if ("cloud" in src && src.cloud === cloud.id) continue;
      const pull = pulling ? pulling.has(cloud.id) : img.transfer.mode === "pull";
      if (!pull) {
        transfer[cloud.id] = { mode: "stream" };
        continue;
      }
      const label = img.transfer.mirrors?.label;
      const mirror = label ? img.transfer.mirrors?.urls[cloud.labels[label] ?? ""] : undefined;
      const url = mirror ?? ("url" in src ? src.url : undefined);
      if (!url) {
        problem(
          [...at, "transfer"],
          `cloud ${cloud.id} pulls image '${img.name}', but its source is not a URL and no mirror serves it`,
        );
        continue;
      }
      transfer[cloud.id] = { mode: "pull", url };
    }
    return { ...img, transfer };
  });
  return {
    kind: "ImageSet",
    name: m.metadata.name,
    origin,
    clouds: targets.map((c) => c.id).sort(),
    images,
  };
}

/** {@link selectClouds} for a selector that is not at `spec.clouds`: its problems are moved to `at`. */
function selectAt(sel: CloudSelector, clouds: readonly Cloud[], problem: Problem, at: PropertyKey[]): Cloud[] {
  return selectClouds(sel, clouds, (path, message) => problem([...at, ...path.slice(2)], message));
}
