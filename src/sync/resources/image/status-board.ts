import {
  type ImageStatusRow,
  readImageStatus,
  type TransferProgress,
  writeImageStatus,
} from "../../../images/index.js";
import type { Store } from "../../../store/index.js";

/** Same content, whatever the time it was written. */
function sameRow(a: ImageStatusRow, b: Omit<ImageStatusRow, "updatedAt">): boolean {
  const { updatedAt: _, ...rest } = a;
  const keys = new Set([...Object.keys(rest), ...Object.keys(b)]);
  return [...keys].every((k) => rest[k as keyof typeof rest] === b[k as keyof typeof b]);
}

/** A row's identity within a cloud: (ImageSet, image, version), as a JSON array (never an ambiguous join). */
function rowKey(r: { imageSet: string; image: string; version: string }): string {
  return JSON.stringify([r.imageSet, r.image, r.version]);
}

const TRANSFERRING: ReadonlySet<TransferProgress["phase"]> = new Set([
  "creating",
  "uploading",
  "importing",
  "verifying",
  "retrying",
]);

/**
 * The status grid as this process knows it (src/images/status.ts is the contract): observe sets each cloud's rows,
 * transfers move them (transferring with bytes, present, failed, pending on a down cloud). Written to the store at
 * most once per `intervalMs` while anything changes, and at once when a wave ends. A write keeps the rows of clouds
 * this process has not seen (another worker's), so workers sharing a run do not erase each other's clouds.
 */
export class StatusBoard {
  private readonly rows = new Map<string, Map<string, ImageStatusRow>>();
  /** cloud -> Glance name of the image being transferred -> row key (progress is reported by Glance name). */
  private readonly names = new Map<string, Map<string, string>>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;
  /** Clouds whose rows went away since the last write (removed from the stored grid by it). */
  private readonly cleared = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly opts: { intervalMs: number; now: () => Date; running: () => boolean },
  ) {}

  /** Replaces one cloud's rows; rows that did not change keep their time, and nothing is written if none did. */
  observed(cloudId: string, rows: Omit<ImageStatusRow, "updatedAt">[]): void {
    const at = this.opts.now().toISOString();
    const before = this.rows.get(cloudId);
    if (!before && rows.length === 0) return;
    let changed = before?.size !== rows.length;
    const next = new Map<string, ImageStatusRow>();
    for (const r of rows) {
      const key = rowKey(r);
      const old = before?.get(key);
      const same = old !== undefined && sameRow(old, r);
      if (!same) changed = true;
      next.set(key, same ? old : { ...r, updatedAt: at });
    }
    if (!changed) return;
    if (rows.length === 0) this.rows.delete(cloudId);
    else this.rows.set(cloudId, next);
    // A cloud that had rows and has none now must leave the stored grid too.
    if (rows.length === 0) this.cleared.add(cloudId);
    this.changed();
  }

  /** Links a transfer's Glance name to its row, so its progress lands there. */
  track(cloudId: string, glanceName: string, ref: { imageSet: string; image: string; version: string }): void {
    let byName = this.names.get(cloudId);
    if (!byName) {
      byName = new Map();
      this.names.set(cloudId, byName);
    }
    byName.set(glanceName, rowKey(ref));
  }

  /** Merges `change` into a row (made if missing); fields set to undefined are removed. */
  update(
    cloudId: string,
    ref: { imageSet: string; image: string; version: string },
    change: Partial<ImageStatusRow>,
  ): void {
    let cloud = this.rows.get(cloudId);
    if (!cloud) {
      cloud = new Map();
      this.rows.set(cloudId, cloud);
    }
    const key = rowKey(ref);
    const before = cloud.get(key) ?? { ...ref, cloudId, state: "pending" as const, updatedAt: "" };
    const row = { ...before, ...change, updatedAt: this.opts.now().toISOString() } as ImageStatusRow;
    for (const k of Object.keys(row) as (keyof ImageStatusRow)[]) if (row[k] === undefined) delete row[k];
    cloud.set(key, row);
    this.changed();
  }

  /** A transfer's progress event (ImageTransfers' `onProgress`). */
  progress(p: TransferProgress): void {
    const key = this.names.get(p.cloudId)?.get(p.image);
    const row = key ? this.rows.get(p.cloudId)?.get(key) : undefined;
    if (!row || !TRANSFERRING.has(p.phase)) return;
    this.update(p.cloudId, row, {
      state: "transferring",
      bytesDone: p.bytes ?? (p.phase === "creating" ? 0 : row.bytesDone),
      totalBytes: p.total ?? row.totalBytes,
      code: undefined,
      reason: p.phase === "retrying" ? `attempt ${p.attempt} failed; retrying` : undefined,
    });
  }

  /** Writes now (a wave ended, or the run did). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.dirty = false;
    this.writing = this.writing.then(() => this.write()).catch(() => {});
    return this.writing;
  }

  /** Writes what changed since the last write, if anything; waits for a write under way. */
  settle(): Promise<void> {
    return this.dirty ? this.flush() : this.writing;
  }

  private changed(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.dirty) void this.flush();
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const previous = await readImageStatus(this.store).catch(() => null);
    const mine = [...this.rows.values()].flatMap((m) => [...m.values()]);
    const others = (previous?.rows ?? []).filter((r) => !this.rows.has(r.cloudId) && !this.cleared.has(r.cloudId));
    this.cleared.clear();
    const rows = [...others, ...mine].sort(
      (a, b) =>
        a.imageSet.localeCompare(b.imageSet) ||
        a.image.localeCompare(b.image) ||
        a.version.localeCompare(b.version) ||
        a.cloudId.localeCompare(b.cloudId),
    );
    await writeImageStatus(this.store, {
      writtenAt: this.opts.now().toISOString(),
      running: this.opts.running(),
      rows,
    });
  }
}
