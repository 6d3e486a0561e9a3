import type { ImageStatusRow, TargetOutcome } from "../../../images/index.js";
import type { GlanceClient } from "../../../openstack/index.js";
import type { CompiledImage } from "../../../policy/index.js";
import type { SourceRef, TransferImage } from "./ops.js";

/** A source's version as resolved before planning, or why it could not be. */
export interface ResolvedVersion {
  /** `<algorithm>:<hex>`, when known. */
  version?: string;
  source?: SourceRef;
  /** Bytes, when known (files, golden images). */
  size?: number;
  problem?: { code: string; reason: string };
}

/**
 * What the image resource needs beyond one cloud's clients, shared by every cloud of a process's runs: the source
 * versions (a file's sha512 is computed once per path, size and mtime), the transfer waves (one read of a source
 * for all the clouds that want that version), and the status grid. {@link ImageDistributor} is the implementation.
 */
export interface ImageServices {
  /** The version of an image's source (never throws: a failure is `problem`). */
  resolve(image: CompiledImage): Promise<ResolvedVersion>;
  /** Replaces one cloud's rows of the status grid with what observe found. */
  observed(cloudId: string, rows: Omit<ImageStatusRow, "updatedAt">[]): void;
  /** Transfers one version to one cloud, joined with the same version's transfers to other clouds. */
  transfer(
    cloudId: string,
    glance: GlanceClient,
    op: TransferImage,
    mark: Record<string, string>,
  ): Promise<TargetOutcome>;
  /** Records a row change made outside a transfer (a failure before it started). */
  report(
    cloudId: string,
    ref: { imageSet: string; image: string; version: string },
    row: Partial<ImageStatusRow>,
  ): void;
}
