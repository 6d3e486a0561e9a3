import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { ArchwayError } from "../../../src/errors.js";
import type { ImageApi } from "../../../src/images/index.js";
import type { Image, ImageCreate, ImageFilter, UploadBody, UploadWriter } from "../../../src/openstack/index.js";

/** An in-memory Glance for unit tests: hashes what it is sent, and can fail or corrupt on request. */
export class FakeGlance implements ImageApi {
  readonly images = new Map<string, Image>();
  /** Uploads still to fail, after this many bytes each. */
  failUploads: number[] = [];
  /** Report a wrong checksum for the next upload. */
  corruptNext = false;
  /** Slow reader: ms to wait per chunk. */
  delayPerChunkMs = 0;
  deletes: string[] = [];
  down = false;

  constructor(readonly cloudId: string) {}

  private check() {
    if (this.down) throw new ArchwayError("cloud_unavailable", `cloud ${this.cloudId}: down`, 503);
  }

  async create(spec: ImageCreate): Promise<Image> {
    this.check();
    const image: Image = {
      ...spec.properties,
      id: randomUUID(),
      name: spec.name,
      status: "queued",
      disk_format: spec.diskFormat,
      container_format: spec.containerFormat,
      protected: spec.protected ?? false,
      visibility: spec.visibility ?? "shared",
      created_at: new Date().toISOString(),
    };
    this.images.set(image.id, image);
    return { ...image };
  }

  async upload(id: string, body: UploadBody): Promise<void> {
    this.check();
    const image = this.images.get(id);
    if (!image) throw new ArchwayError("glance_not_found", "no image", 404);
    image.status = "saving";
    const md5 = createHash("md5");
    const sha512 = createHash("sha512");
    let size = 0;
    const failAt = this.failUploads.shift();
    const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (this.delayPerChunkMs) await new Promise((r) => setTimeout(r, this.delayPerChunkMs));
        md5.update(chunk);
        sha512.update(chunk);
        size += chunk.length;
        if (failAt !== undefined && size >= failAt) {
          stream.destroy();
          throw new ArchwayError("image_upload_interrupted", `cloud ${this.cloudId}: cut`, 503);
        }
      }
    } catch (err) {
      image.status = "queued";
      throw err;
    }
    image.status = "active";
    image.size = size;
    image.checksum = this.corruptNext ? "0".repeat(32) : md5.digest("hex");
    this.corruptNext = false;
    image.os_hash_algo = "sha512";
    image.os_hash_value = sha512.digest("hex");
  }

  async get(id: string): Promise<Image> {
    this.check();
    const image = this.images.get(id);
    if (!image) throw new ArchwayError("glance_not_found", "no image", 404);
    return { ...image };
  }

  /** Changes recorded by {@link update}, in order. */
  updates: { id: string; changes: Record<string, unknown> }[] = [];

  async update(id: string, changes: Record<string, unknown>): Promise<Image> {
    this.check();
    const image = this.images.get(id);
    if (!image) throw new ArchwayError("glance_not_found", "no image", 404);
    this.updates.push({ id, changes });
    Object.assign(image, changes);
    return { ...image };
  }

  async delete(id: string): Promise<void> {
    this.check();
    this.deletes.push(id);
    this.images.delete(id);
  }

  async importWebDownload(): Promise<void> {
    throw new Error("not in the fake");
  }

  async list(filter: ImageFilter = {}): Promise<Image[]> {
    this.check();
    return [...this.images.values()].filter((i) =>
      Object.entries(filter.properties ?? {}).every(([k, v]) => (i as Record<string, unknown>)[k] === v),
    );
  }

  /** Images in a given status. */
  inStatus(status: string): Image[] {
    return [...this.images.values()].filter((i) => i.status === status);
  }
}

/**
 * A FakeGlance whose uploads are written piece by piece, as a real Glance client's `openUpload`: each write reads its
 * chunk only after a delay, just before it resolves, so a source that refilled a buffer before the write resolved
 * would upload wrong bytes (and fail verification).
 */
export class FakeWriterGlance extends FakeGlance {
  flushDelayMs = 2;
  /** Uploads opened. */
  opened = 0;

  async openUpload(id: string): Promise<UploadWriter> {
    const image = this.images.get(id);
    if (!image) throw new ArchwayError("glance_not_found", "no image", 404);
    this.opened++;
    image.status = "saving";
    const md5 = createHash("md5");
    const sha512 = createHash("sha512");
    let size = 0;
    let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const done = new Promise<void>((resolve, reject) => {
      settle = { resolve, reject };
    });
    done.catch(() => {});
    return {
      write: async (chunk) => {
        await new Promise((r) => setTimeout(r, this.flushDelayMs));
        md5.update(chunk);
        sha512.update(chunk);
        size += chunk.length;
      },
      end: () => {
        Object.assign(image, {
          status: "active",
          size,
          checksum: md5.digest("hex"),
          os_hash_algo: "sha512",
          os_hash_value: sha512.digest("hex"),
        });
        settle?.resolve();
      },
      abort: (err) => {
        image.status = "queued";
        settle?.reject(err);
      },
      done,
    };
  }
}
