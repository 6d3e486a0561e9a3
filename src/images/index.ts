/**
 * Images in many clouds: streams one source (a local file, or an http(s) URL pinned by sha256/sha512) to several
 * clouds' Glance at once, read once per wave and teed with backpressure (memory independent of image size), or lets
 * each cloud pull it (`web-download`); bandwidth caps per cloud and in total, concurrency per cloud and in total,
 * retries with backoff, verification against Glance's `os_hash_value` (sha512) and `checksum` (md5), and a sweep of
 * Archway's unfinished leftovers. The ImageSet manifests and the image sync resource build on this.
 */
import { TransferContext } from "./context.js";
import { digestSource, pullImage } from "./pull.js";
import { streamImage } from "./stream.js";
import type { TransferOptions, TransferReport, TransferRequest } from "./types.js";

export { type BandwidthCaps, Throttle, TokenBucket } from "./bucket.js";
export { isOurs, type SweepResult, sweepLeftovers, UNFINISHED_STATUSES } from "./cleanup.js";
export { VERIFICATION_FAILED } from "./context.js";
export {
  type ChunkDigester,
  checkPin,
  Digester,
  type GlanceDigests,
  KnownDigests,
  type PinAlgorithm,
  SOURCE_DIGEST_MISMATCH,
  type SourceDigests,
  type SourcePin,
  streamDigester,
  verifyImage,
} from "./digests.js";
export { IMPORT_FAILED } from "./pull.js";
export { type BackoffPolicy, backoffMs, DEFAULT_BACKOFF, TransferSlots } from "./slots.js";
export { describeSource, type GoldenImageSource, type ImageSource, SOURCE_UNAVAILABLE } from "./source.js";
export {
  type ImageCloudState,
  ImageCloudStateSchema,
  type ImageStatusRow,
  ImageStatusRowSchema,
  type ImageStatusSnapshot,
  ImageStatusSnapshotSchema,
  readImageStatus,
  writeImageStatus,
} from "./status.js";
export {
  countImageStates,
  filterImageStatus,
  formatBytes,
  groupImageStatus,
  IMAGE_STATES,
  type ImageStateCounts,
  type ImageStatusFilter,
  type ImageVersionStatus,
  progressOf,
  rowDetail,
  shortVersion,
} from "./status-view.js";
export { type TeeResult, TeeSink, tee } from "./tee.js";
export type {
  ImageApi,
  TargetOutcome,
  TransferOptions,
  TransferProgress,
  TransferReport,
  TransferRequest,
  TransferTarget,
} from "./types.js";

/**
 * The image transfers of one process: every call shares the same concurrency slots and bandwidth buckets, so
 * several images in flight together still respect the per-cloud and total limits.
 */
export class ImageTransfers {
  private readonly ctx: TransferContext;

  constructor(opts: TransferOptions = {}) {
    this.ctx = new TransferContext(opts);
  }

  /** Streams the image through Archway to every target (see {@link streamImage}). */
  stream(req: TransferRequest): Promise<TransferReport> {
    return streamImage(this.ctx, req);
  }

  /** Lets every target pull the image with `web-download` (see {@link pullImage}). */
  pull(req: TransferRequest): Promise<TransferReport> {
    return pullImage(this.ctx, req);
  }

  /** Reads the source once and returns its digests; throws `image_source_digest_mismatch` if it fails its pin. */
  digest(req: Pick<TransferRequest, "source">) {
    return digestSource(this.ctx, req);
  }

  /** Transfers running now. */
  get active(): number {
    return this.ctx.slots.stats.active;
  }
}
