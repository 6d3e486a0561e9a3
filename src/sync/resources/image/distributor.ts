import { ArchwayError, isArchwayError } from "../../../errors.js";
import {
  type ImageSource,
  type ImageStatusRow,
  ImageTransfers,
  type SourceDigests,
  type TargetOutcome,
  type TransferOptions,
  type TransferReport,
  type TransferTarget,
} from "../../../images/index.js";
import type { CloudClients, GlanceClient } from "../../../openstack/index.js";
import type { CompiledImage } from "../../../policy/index.js";
import type { Store } from "../../../store/index.js";
import { FileDigests } from "./file-digest.js";
import { resolveGolden } from "./golden.js";
import { versionedName, versionPin } from "./marks.js";
import type { SourceRef, TransferImage } from "./ops.js";
import type { ImageServices, ResolvedVersion } from "./services.js";
import { StatusBoard } from "./status-board.js";

/** Options of {@link ImageDistributor}. */
export interface DistributorOptions {
  store: Store;
  /** Any cloud's clients by id (a golden source lives in another cloud than the one being synced). */
  clients: (cloudId: string) => CloudClients;
  /** Limits of the process's transfers (caps, concurrency, retries); see ImageTransfers. */
  transfers?: TransferOptions;
  /** How long the first transfer of a version waits for the same version's transfers to other clouds. 1.5 s. */
  windowMs?: number;
  /** Clouds joined into one wave at most (a full wave starts at once). Default: the transfers' fanout, else 8. */
  fanout?: number;
  /** Status grid writes at most this often while transfers run. 1 s. */
  statusIntervalMs?: number;
  now?: () => Date;
}

interface Member {
  cloudId: string;
  glance: GlanceClient;
  pullUrl?: string;
  done: (outcome: TargetOutcome) => void;
}

interface Wave {
  op: TransferImage;
  mark: Record<string, string>;
  members: Member[];
  timer: NodeJS.Timeout;
}

/**
 * The image side of a process's sync runs (see {@link ImageServices}): resolves source versions, joins the
 * transfers of one version to many clouds into waves (each cloud's apply asks for its own transfer; those arriving
 * within `windowMs`, up to `fanout`, share one read of the source through one ImageTransfers call), and keeps the
 * status grid. One per process, shared by every cloud's runs; within one process only: BullMQ workers each make
 * their own waves.
 */
export class ImageDistributor implements ImageServices {
  private readonly transfers: ImageTransfers;
  private readonly files: FileDigests;
  private readonly board: StatusBoard;
  private readonly waves = new Map<string, Wave>();
  private readonly windowMs: number;
  private readonly fanout: number;
  private running = 0;
  private readonly goldens = new Map<string, { value: ReturnType<typeof resolveGolden>; until: number }>();
  /** Source reads started by waves (tests and benchmarks check one per wave). */
  wavesStarted = 0;

  constructor(private readonly opts: DistributorOptions) {
    const now = opts.now ?? (() => new Date());
    this.board = new StatusBoard(opts.store, {
      intervalMs: opts.statusIntervalMs ?? 1_000,
      now,
      running: () => this.running > 0 || this.waves.size > 0,
    });
    this.transfers = new ImageTransfers({
      ...opts.transfers,
      onProgress: (p) => {
        this.board.progress(p);
        opts.transfers?.onProgress?.(p);
      },
    });
    this.files = new FileDigests(opts.store);
    this.windowMs = opts.windowMs ?? 1_500;
    this.fanout = opts.fanout ?? opts.transfers?.fanout ?? opts.transfers?.concurrencyTotal ?? 8;
  }

  async resolve(image: CompiledImage): Promise<ResolvedVersion> {
    const src = image.source;
    try {
      if ("url" in src) {
        const pin = src.sha512
          ? { algorithm: "sha512" as const, value: src.sha512.toLowerCase() }
          : { algorithm: "sha256" as const, value: (src.sha256 ?? "").toLowerCase() };
        return { version: `${pin.algorithm}:${pin.value}`, source: { kind: "url", url: src.url, pin } };
      }
      if ("file" in src) {
        const d = await this.files.of(src.file);
        return { version: `sha512:${d.sha512}`, source: { kind: "file", path: src.file }, size: d.size };
      }
      const golden = await this.golden(src.cloud, src.image);
      return {
        version: `sha512:${golden.sha512}`,
        source: { kind: "golden", cloudId: src.cloud, imageId: golden.id },
        size: golden.size,
      };
    } catch (err) {
      const code = isArchwayError(err) ? err.code : "image_source_unavailable";
      return { problem: { code, reason: `source of image ${image.name}: ${(err as Error).message}` } };
    }
  }

  /**
   * A golden image, looked up at most once per `GOLDEN_TTL_MS` (every target cloud's observe asks for it: 1,000
   * clouds must not mean 1,000 listings of the golden cloud). A failed lookup is not kept.
   */
  private golden(cloudId: string, image: string): ReturnType<typeof resolveGolden> {
    const key = JSON.stringify([cloudId, image]);
    const now = Date.now();
    const hit = this.goldens.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = resolveGolden(this.opts.clients(cloudId).images(), cloudId, image);
    this.goldens.set(key, { value, until: now + GOLDEN_TTL_MS });
    value.catch(() => this.goldens.delete(key));
    return value;
  }

  observed(cloudId: string, rows: Omit<ImageStatusRow, "updatedAt">[]): void {
    this.board.observed(cloudId, rows);
  }

  report(cloudId: string, ref: { imageSet: string; image: string; version: string }, row: Partial<ImageStatusRow>) {
    this.board.update(cloudId, ref, row);
  }

  /** Writes the status grid if it changed since the last write (the end of a cloud's run). */
  settle(): Promise<void> {
    return this.board.settle();
  }

  transfer(cloudId: string, glance: GlanceClient, op: TransferImage, mark: Record<string, string>) {
    const key = JSON.stringify([op.imageSet, op.image, op.version, op.mode, op.source, op.fields]);
    return new Promise<TargetOutcome>((done) => {
      let wave = this.waves.get(key);
      if (!wave) {
        const timer = setTimeout(() => this.launch(key), this.windowMs);
        wave = { op, mark, members: [], timer };
        this.waves.set(key, wave);
      }
      wave.members.push({ cloudId, glance, ...(op.pullUrl ? { pullUrl: op.pullUrl } : {}), done });
      this.board.track(cloudId, versionedName(op.image, op.version), op);
      this.board.update(cloudId, op, { state: "transferring", bytesDone: 0, code: undefined, reason: undefined });
      if (wave.members.length >= this.fanout) this.launch(key);
    });
  }

  private launch(key: string): void {
    const wave = this.waves.get(key);
    if (!wave) return;
    this.waves.delete(key);
    clearTimeout(wave.timer);
    this.running++;
    this.wavesStarted++;
    void this.run(wave).finally(() => {
      this.running--;
      void this.board.flush();
    });
  }

  private async run(wave: Wave): Promise<void> {
    const { op } = wave;
    const targets: TransferTarget[] = wave.members.map((m) => ({
      cloudId: m.cloudId,
      glance: m.glance,
      ...(m.pullUrl ? { pullUrl: m.pullUrl } : {}),
    }));
    let report: TransferReport;
    try {
      const expected = await this.expectedOf(op);
      const req = {
        source: this.sourceOf(op.source, op.version),
        image: {
          name: versionedName(op.image, op.version),
          diskFormat: op.fields.diskFormat,
          containerFormat: op.fields.containerFormat,
          visibility: op.fields.visibility,
          protected: op.fields.protected,
          minDisk: op.fields.minDisk,
          minRam: op.fields.minRam,
          properties: op.fields.properties,
        },
        mark: wave.mark,
        targets,
        ...(expected ? { expected } : {}),
      };
      report = op.mode === "pull" ? await this.transfers.pull(req) : await this.transfers.stream(req);
    } catch (err) {
      const code = isArchwayError(err) ? err.code : "image_transfer_failed";
      const reason = (err as Error).message;
      report = {
        outcomes: targets.map((t) => ({ cloudId: t.cloudId, ok: false, code, reason, attempts: 0, leftovers: [] })),
      };
    }
    for (const m of wave.members) {
      const outcome: TargetOutcome = report.outcomes.find((o) => o.cloudId === m.cloudId) ?? {
        cloudId: m.cloudId,
        ok: false,
        code: "image_transfer_failed",
        reason: "no outcome reported",
        attempts: 0,
        leftovers: [],
      };
      if (outcome.ok)
        this.board.update(m.cloudId, op, {
          state: "present",
          imageId: outcome.imageId,
          bytesDone: outcome.bytes,
          totalBytes: outcome.bytes,
          code: undefined,
          reason: undefined,
        });
      else
        this.board.update(m.cloudId, op, {
          state: DOWN_CODES.has(outcome.code) ? "pending" : "failed",
          code: outcome.code,
          reason: outcome.reason,
        });
      m.done(outcome);
    }
  }

  /** The readable source of an operation, pinned to the version it was planned for. */
  /**
   * The digests of a version known without reading its source (a file's cached digests, a golden image's hashes),
   * so the stream does not hash it and a pull does not read it first; undefined for a URL (its pin gives no md5)
   * or when what is known now is another version (the source changed: the stream hashes it and its pin refuses it).
   */
  private async expectedOf(op: TransferImage): Promise<SourceDigests | undefined> {
    const { algorithm, value: hex } = versionPin(op.version);
    if (algorithm !== "sha512") return undefined;
    try {
      if (op.source.kind === "file") {
        const d = await this.files.of(op.source.path);
        return d.sha512 === hex ? { size: d.size, md5: d.md5, sha512: d.sha512 } : undefined;
      }
      if (op.source.kind === "golden") {
        const g = await this.golden(op.source.cloudId, op.source.imageId);
        return g.sha512 === hex && g.md5 && g.size !== undefined
          ? { size: g.size, md5: g.md5, sha512: g.sha512 }
          : undefined;
      }
    } catch {
      // Not knowing only costs the hashing.
    }
    return undefined;
  }

  private sourceOf(ref: SourceRef, version: string): ImageSource {
    const pin = versionPin(version);
    switch (ref.kind) {
      case "file":
        return { kind: "file", path: ref.path, pin };
      case "url":
        return { kind: "url", url: ref.url, pin: ref.pin };
      case "golden":
        return {
          kind: "glance",
          cloudId: ref.cloudId,
          imageId: ref.imageId,
          glance: this.opts.clients(ref.cloudId).images(),
          pin,
        };
      default:
        throw new ArchwayError("image_source_unknown", "unknown image source", 500);
    }
  }
}

/** How long a golden image's lookup is reused: about one run's observe phase. */
const GOLDEN_TTL_MS = 30_000;

/** Outcomes that mean the cloud could not be reached (the row is pending, retried next run), not a refusal. */
const DOWN_CODES: ReadonlySet<string> = new Set(["cloud_unavailable", "image_upload_interrupted", "cloud_timeout"]);
