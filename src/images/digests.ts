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

/** What a tee feeds each chunk of the source to, and asks for the source's digests once it is read whole. */
export interface ChunkDigester {
  update(chunk: Uint8Array): void;
  /** Bytes seen so far. */
  readonly bytes: number;
  /** The source's digests; throws when what was read cannot be the source (see {@link KnownDigests}). */
  digest(): SourceDigests;
}

/**
 * Incremental digests of a byte stream: md5 and sha512 always (what Glance reports), sha256 when asked (a pin).
 * Fed chunk by chunk while streaming, so the source is read once.
 */
export class Digester implements ChunkDigester {
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

/**
 * The digester of a source whose digests are known before it is read (a file hashed once per path, size and mtime;
 * a golden image Glance hashed): it only counts bytes, so streaming costs no hashing in Archway, and Glance's own
 * `os_hash_value` and `checksum` of each copy are what prove it. Reading more or fewer bytes than the known size
 * fails here, before the last chunk is released, so a source that grew or shrank completes no upload; a source
 * changed in place at the same size is caught by that verification, while its copies are still quarantined.
 */
export class KnownDigests implements ChunkDigester {
  private size = 0;

  constructor(
    private readonly known: SourceDigests,
    private readonly what: string,
  ) {}

  update(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.known.size) throw this.mismatch();
  }

  get bytes(): number {
    return this.size;
  }

  digest(): SourceDigests {
    if (this.size !== this.known.size) throw this.mismatch();
    return this.known;
  }

  private mismatch(): ArchwayError {
    return new ArchwayError(
      SOURCE_DIGEST_MISMATCH,
      `${this.what}: ${this.size} bytes read, ${this.known.size} expected: it changed since it was hashed; refused`,
      422,
    );
  }
}

/**
 * The digester a stream of `pin`'s source uses: {@link KnownDigests} when its digests are known and agree with the
 * pin (a sha256 pin cannot be checked without hashing, so it always hashes), else a hashing {@link Digester}.
 */
export function streamDigester(
  pin: SourcePin | undefined,
  known: SourceDigests | undefined,
  what: string,
): ChunkDigester {
  if (!known) return digesterFor(pin);
  if (pin && (pin.algorithm !== "sha512" || pin.value.toLowerCase() !== known.sha512)) return digesterFor(pin);
  return new KnownDigests(known, what);
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
