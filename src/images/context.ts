import { ArchwayError, isArchwayError } from "../errors.js";
import type { Image, ImageCreate } from "../openstack/glance.js";
import { Throttle } from "./bucket.js";
import { type BackoffPolicy, backoffMs, DEFAULT_BACKOFF, TransferSlots } from "./slots.js";
import type { ImageApi, TargetOutcome, TransferOptions, TransferProgress, TransferTarget } from "./types.js";

/** The limits and clock every transfer of a process shares. */
export class TransferContext {
  readonly slots: TransferSlots;
  readonly throttle: Throttle;
  readonly backoff: BackoffPolicy;
  readonly fanout: number;
  readonly chunkBytes: number;
  readonly sinkBufferBytes: number;
  readonly importTimeoutMs: number;
  readonly pollMs: number;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  private readonly progress?: (p: TransferProgress) => void;

  constructor(opts: TransferOptions = {}) {
    const total = opts.concurrencyTotal ?? 8;
    this.slots = new TransferSlots(opts.concurrencyPerCloud ?? 2, total);
    this.throttle = new Throttle(opts.caps);
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.fanout = opts.fanout ?? total;
    this.chunkBytes = opts.chunkBytes ?? 1 << 20;
    this.sinkBufferBytes = opts.sinkBufferBytes ?? 1 << 20;
    this.importTimeoutMs = opts.importTimeoutMs ?? 30 * 60_000;
    this.pollMs = opts.pollMs ?? 500;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = opts.random ?? Math.random;
    this.progress = opts.onProgress;
  }

  report(p: TransferProgress): void {
    this.progress?.(p);
  }

  /** Waits as the bandwidth caps require before `n` bytes go to each of `cloudIds`. */
  async pace(n: number, cloudIds: readonly string[]): Promise<void> {
    if (this.throttle.unlimited) return;
    const wait = this.throttle.reserve(n, cloudIds, this.now());
    if (wait > 0) await this.sleep(wait);
  }

  /** The wait before the next attempt after failed attempt `attempt`. */
  retryDelay(attempt: number): number {
    return backoffMs(attempt, this.backoff, this.random);
  }
}

/** Where one target stands during a transfer. */
export interface Pending {
  target: TransferTarget;
  attempt: number;
  notBefore: number;
  /** The image of the current attempt. */
  image?: Image;
  /** Images of failed attempts not deleted yet (the cloud was down). */
  leftovers: string[];
  lastError?: unknown;
}

export const VERIFICATION_FAILED = "image_verification_failed";

/** The create body of an image: its spec with Archway's mark merged into the properties. */
export function markedSpec(image: ImageCreate, mark: Record<string, string>): ImageCreate {
  return { ...image, properties: { ...image.properties, ...mark } };
}

/**
 * The create body of an image until Archway has verified it: its marked spec, but private to Archway's project and
 * unprotected whatever the set asks, so no tenant can see or boot a copy whose bytes are not checked yet (an upload
 * checked by Glance's own hash, or a web-download import, goes `active` before Archway compares it) and a copy that
 * fails can be deleted in one call. {@link releaseImage} gives it the asked visibility and protection once verified.
 */
export function quarantinedSpec(image: ImageCreate, mark: Record<string, string>): ImageCreate {
  return { ...markedSpec(image, mark), visibility: "private", protected: false };
}

/**
 * Lifts the quarantine of a verified image: the visibility (Glance's default, `shared`, when the spec names none)
 * and protection of its spec, in one patch; nothing to do for a private, unprotected image.
 */
export async function releaseImage(glance: ImageApi, image: Image, spec: ImageCreate): Promise<Image> {
  const changes: Record<string, unknown> = {};
  const visibility = spec.visibility ?? "shared";
  if (image.visibility !== visibility) changes.visibility = visibility;
  if ((image.protected ?? false) !== (spec.protected ?? false)) changes.protected = spec.protected ?? false;
  return Object.keys(changes).length > 0 ? glance.update(image.id, changes, image) : image;
}

/** Deletes the current attempt's image and earlier leftovers; what cannot be deleted now stays a leftover. */
export async function discard(p: Pending, protectedImage: boolean): Promise<void> {
  if (p.image) {
    p.leftovers.push(p.image.id);
    p.image = undefined;
  }
  const still: string[] = [];
  for (const id of p.leftovers) {
    try {
      await p.target.glance.delete(id, { unprotect: protectedImage });
    } catch {
      still.push(id);
    }
  }
  p.leftovers = still;
}

/** A failure outcome from an error. */
export function failed(p: Pending, err: unknown): TargetOutcome {
  const code = isArchwayError(err) ? err.code : "image_transfer_failed";
  const reason = err instanceof Error ? err.message : String(err);
  return { cloudId: p.target.cloudId, ok: false, code, reason, attempts: p.attempt, leftovers: [...p.leftovers] };
}

/** True for failures that another attempt cannot fix (a wrong source, a wrong spec, a verification mismatch). */
export function permanent(err: unknown): boolean {
  if (!isArchwayError(err)) return false;
  if (err.code === "image_source_digest_mismatch" || err.code === VERIFICATION_FAILED) return true;
  // 4xx answers (bad format, forbidden visibility, quota) say the request is wrong, not the cloud down.
  return /^glance_(error|unauthorized|conflict)$/.test(err.code);
}

export function verificationError(cloudId: string, why: string): ArchwayError {
  return new ArchwayError(VERIFICATION_FAILED, `cloud ${cloudId}: the image does not match the source: ${why}`, 502);
}
