import { createHash, type Hash } from "node:crypto";
import { ArchwayError } from "../errors.js";

/** The digest algorithms a source may be pinned with. */
export type PinAlgorithm = "sha256" | "sha512";

/** A source's expected digest (hex, any case). */
export interface SourcePin {
  algorithm: PinAlgorithm;
  value: string;
}

/** What is known of a source once read: its size and digests (hex, lower case). */
export interface SourceDigests {
  size: number;
  /** What Glance calls `checksum`. */
  md5: string;
  /** What Glance reports as `os_hash_value` with `os_hash_algo: sha512`. */
  sha512: string;
  /** Only when the source is pinned with sha256. */
  sha256?: string;
}

/**
 * Incremental digests of a byte stream: md5 and sha512 always (what Glance reports), sha256 when asked (a pin).
 * Fed chunk by chunk while streaming, so the source is read once.
 */
export class Digester {
  private readonly md5: Hash = createHash("md5");
  private readonly sha512: Hash = createHash("sha512");
  private readonly sha256: Hash | undefined;
  private size = 0;

  constructor(opts: { sha256?: boolean } = {}) {
    this.sha256 = opts.sha256 ? createHash("sha256") : undefined;
  }

  update(chunk: Uint8Array): void {
    this.md5.update(chunk);
    this.sha512.update(chunk);
    this.sha256?.update(chunk);
    this.size += chunk.length;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  /** The digests; the digester cannot be fed after this. */
  digest(): SourceDigests {
    return {
      size: this.size,
      md5: this.md5.digest("hex"),
      sha512: this.sha512.digest("hex"),
      ...(this.sha256 ? { sha256: this.sha256.digest("hex") } : {}),
    };
  }
}

/** A digester that computes what `pin` needs. */
export function digesterFor(pin: SourcePin | undefined): Digester {
  return new Digester({ sha256: pin?.algorithm === "sha256" });
}

/** Thrown when a source does not match its pinned digest: nothing made from it may go active. */
export const SOURCE_DIGEST_MISMATCH = "image_source_digest_mismatch";

/** Throws {@link SOURCE_DIGEST_MISMATCH} when `digests` do not match `pin` (no pin: nothing to check). */
export function checkPin(pin: SourcePin | undefined, digests: SourceDigests, what: string): void {
  if (!pin) return;
  const actual = pin.algorithm === "sha256" ? digests.sha256 : digests.sha512;
  if (actual === undefined || actual !== pin.value.toLowerCase()) {
    throw new ArchwayError(
      SOURCE_DIGEST_MISMATCH,
      `${what}: ${pin.algorithm} is ${actual ?? "(not computed)"}, the pinned value is ${pin.value.toLowerCase()}; refused`,
      422,
    );
  }
}

/** The fields of a Glance image that verification reads. */
export interface GlanceDigests {
  status: string;
  size?: number | null;
  checksum?: string | null;
  os_hash_algo?: string | null;
  os_hash_value?: string | null;
}

/**
 * Why an image Glance reports does not match the streamed source, or undefined when it does: active, same size,
 * `checksum` = md5, and `os_hash_value` = sha512 (a cloud hashing with another algorithm is a mismatch too: Archway
 * cannot vouch for it).
 */
export function verifyImage(image: GlanceDigests, source: SourceDigests): string | undefined {
  if (image.status !== "active") return `status is ${image.status}, not active`;
  if (image.size !== source.size) return `size is ${image.size}, the source has ${source.size} bytes`;
  if (image.checksum !== source.md5) return `checksum (md5) is ${image.checksum}, the source's is ${source.md5}`;
  if (image.os_hash_algo !== "sha512") return `os_hash_algo is ${image.os_hash_algo}, not sha512`;
  if (image.os_hash_value !== source.sha512) return "os_hash_value (sha512) differs from the source's";
  return undefined;
}
