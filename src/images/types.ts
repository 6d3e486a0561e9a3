import type { GlanceClient, ImageCreate } from "../openstack/glance.js";
import type { BandwidthCaps } from "./bucket.js";
import type { SourceDigests } from "./digests.js";
import type { BackoffPolicy } from "./slots.js";
import type { ImageSource } from "./source.js";

/**
 * What a transfer needs of a cloud's Glance (a {@link GlanceClient}, or a stand-in in tests and benchmarks).
 * `openUpload` (uploads written piece by piece) is optional: without it uploads read a stream.
 */
export type ImageApi = Pick<
  GlanceClient,
  "create" | "upload" | "get" | "update" | "delete" | "importWebDownload" | "list"
> &
  Partial<Pick<GlanceClient, "openUpload">>;

/** One cloud to put the image in. */
export interface TransferTarget {
  cloudId: string;
  glance: ImageApi;
  /** Pull mode: the URL this cloud fetches from (a mirror near it); default: the source URL. */
  pullUrl?: string;
}

/** One image to put in several clouds. */
export interface TransferRequest {
  source: ImageSource;
  /** Name, formats, visibility, protection, min disk/RAM and properties of the image in every cloud. */
  image: ImageCreate;
  /**
   * Archway's mark (properties such as the deployment id and the ImageSet name), added to the image's properties:
   * what the leftover sweep looks for, and what tells Archway's images from hand-made ones.
   */
  mark: Record<string, string>;
  targets: readonly TransferTarget[];
  /**
   * The source's digests when already known (a file hashed once per path, size and mtime; a golden image): pull
   * mode then does not read the source, and stream mode does not hash it (it counts bytes; each copy is proved by
   * Glance's own hashes compared with these). Unknown: the source is hashed as it is read (pull: read once first).
   */
  expected?: SourceDigests;
}

/** The outcome in one cloud. */
export type TargetOutcome =
  | { cloudId: string; ok: true; imageId: string; attempts: number; bytes: number }
  | {
      cloudId: string;
      ok: false;
      /** Stable code: `image_source_digest_mismatch`, `image_verification_failed`, `cloud_unavailable`, ... */
      code: string;
      reason: string;
      attempts: number;
      /** Images of Archway's failed attempts that could not be deleted (the cloud was down): for the sweep. */
      leftovers: string[];
    };

/** What happened to one image: the source's digests (when it was read whole) and one outcome per target. */
export interface TransferReport {
  digests?: SourceDigests;
  outcomes: TargetOutcome[];
}

/** Progress of one target, for reports and progress bars. */
export interface TransferProgress {
  cloudId: string;
  image: string;
  phase: "creating" | "uploading" | "importing" | "verifying" | "retrying" | "active" | "failed";
  attempt: number;
  bytes?: number;
  total?: number;
}

/** Limits and knobs of a process's transfers; all have defaults. */
export interface TransferOptions {
  /** Transfers to one cloud at once (across images). Default 2. */
  concurrencyPerCloud?: number;
  /** Transfers at once in total. Default 8. */
  concurrencyTotal?: number;
  /** Clouds fed by one read of the source (a wave). Default: `concurrencyTotal`. */
  fanout?: number;
  caps?: BandwidthCaps;
  backoff?: Partial<BackoffPolicy>;
  /** Read size of the source. Default 1 MiB (fewer, larger writes: measured cheaper for Archway and Glance). */
  chunkBytes?: number;
  /** Buffer of each upload stream before the tee waits for it. Default 1 MiB. */
  sinkBufferBytes?: number;
  /** Pull mode: how long an import may take. Default 30 min. */
  importTimeoutMs?: number;
  /** Pull mode: poll interval of the image status. Default 500 ms. */
  pollMs?: number;
  onProgress?: (p: TransferProgress) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}
