import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Agent, type Dispatcher, request } from "undici";
import { z } from "zod";
import { codeForStatus, OpenStackError, upstreamMessage } from "./errors.js";
import { type Image, ImageListSchema, ImageSchema } from "./glance-schemas.js";
import { startUpload, type UploadTarget, type UploadWriter } from "./glance-upload.js";
import { Transport } from "./http.js";
import type { CloudClients } from "./index.js";
import type { KeystoneClient } from "./keystone.js";

export { IMAGE_STATUSES, type Image, ImageSchema, imageProperties } from "./glance-schemas.js";
export type { UploadWriter } from "./glance-upload.js";

/**
 * The connection pools of a Glance client's bulk transfers, apart from its JSON calls (an upload or a download holds
 * its socket for minutes): undici for downloads and stream uploads, node:http(s) for uploads written piece by piece.
 */
export interface BulkPools {
  dispatcher: Dispatcher;
  agents: UploadTarget["agents"];
}

/** Makes a client's {@link BulkPools}, and the `close` that ends them. */
export function bulkPools(): BulkPools & { close: () => Promise<void> } {
  const dispatcher = new Agent({ keepAliveTimeout: 4_000, connections: 16 });
  const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  return {
    dispatcher,
    agents,
    close: async () => {
      agents.http.destroy();
      agents.https.destroy();
      await dispatcher.close();
    },
  };
}

/** What an image is created with; `properties` become top-level custom properties (`os_distro`, `hw_*`, marks). */
export interface ImageCreate {
  name: string;
  diskFormat: string;
  containerFormat: string;
  visibility?: "public" | "private" | "shared" | "community";
  protected?: boolean;
  minDisk?: number;
  minRam?: number;
  properties?: Record<string, string>;
}

/** Filters of {@link GlanceClient.list}: Glance v2 filters on any custom property by `?key=value`. */
export interface ImageFilter {
  name?: string;
  status?: string;
  visibility?: string;
  owner?: string;
  properties?: Record<string, string>;
  /** Page size (Glance caps it; pages are followed to the end). */
  pageSize?: number;
}

/** A project an image is shared with, and whether it took the share (`pending`, `accepted`, `rejected`). */
export const ImageMemberSchema = z
  .object({ member_id: z.string(), status: z.string(), image_id: z.string().optional() })
  .passthrough();
/** One member of an image. */
export type ImageMember = z.infer<typeof ImageMemberSchema>;
const ImageMemberListSchema = z.object({ members: z.array(ImageMemberSchema) }).passthrough();

/** An upload body: a Node stream or a web stream of bytes. Never read whole into memory. */
export type UploadBody = Readable | WebReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

const enc = encodeURIComponent;

/**
 * Glance v2 images of one cloud, as its admin: list (property filters, paged to the end), get, create, upload of a
 * stream to `PUT /v2/images/{id}/file`, interoperable import (`web-download`), update and delete. JSON calls share
 * the Keystone admin session and go through a {@link Transport} (timeouts, retries, zod replies); uploads stream
 * through their own connection pool, outside the cloud's concurrency limit (an upload holds its socket for minutes;
 * the image transfer scheduler bounds them instead) and are never retried here (a stream cannot be replayed).
 */
export class GlanceClient {
  constructor(
    private readonly keystone: KeystoneClient,
    private readonly transport: Transport,
    /** The image service URL from the catalog (with or without `/v2`). */
    private readonly url: () => Promise<string>,
    private readonly uploads: BulkPools,
  ) {}

  get cloudId(): string {
    return this.keystone.cloudId;
  }

  private async v2(): Promise<string> {
    const base = (await this.url()).replace(/\/+$/, "");
    return /\/v2$/.test(base) ? base : `${base}/v2`;
  }

  /** Every image matching the filter (all pages). */
  async list(filter: ImageFilter = {}): Promise<Image[]> {
    const v2 = await this.v2();
    const query = new URLSearchParams();
    query.set("limit", String(filter.pageSize ?? 200));
    for (const key of ["name", "status", "visibility", "owner"] as const) {
      const value = filter[key];
      if (value !== undefined) query.set(key, value);
    }
    for (const [k, v] of Object.entries(filter.properties ?? {})) query.set(k, v);
    // `next` is `/v2/images?marker=...`, relative to the service root (the URL without `/v2`).
    const root = v2.slice(0, -"/v2".length);
    const out: Image[] = [];
    let path: string | undefined = `${v2}/images?${query}`;
    for (let page = 0; path; page++) {
      if (page > 10_000)
        throw new OpenStackError("glance_error", "glance list: too many pages", 502, this.info("list"));
      const reply: z.infer<typeof ImageListSchema> = await this.keystone.request(
        { operation: "glance.images.list", method: "GET", path, schema: ImageListSchema },
        this.transport,
      );
      out.push(...reply.images);
      path = reply.next ? `${root}${reply.next}` : undefined;
    }
    return out;
  }

  async get(id: string): Promise<Image> {
    return this.keystone.request(
      {
        operation: "glance.images.get",
        method: "GET",
        path: `${await this.v2()}/images/${enc(id)}`,
        schema: ImageSchema,
      },
      this.transport,
    );
  }

  /** The image, or undefined when Glance does not know it (404). */
  async find(id: string): Promise<Image | undefined> {
    try {
      return await this.get(id);
    } catch (err) {
      if (err instanceof OpenStackError && err.upstreamStatus === 404) return undefined;
      throw err;
    }
  }

  /** Creates the image record (`queued`, no data yet). Not retried unless the connection was refused. */
  async create(spec: ImageCreate): Promise<Image> {
    const body: Record<string, unknown> = {
      ...spec.properties,
      name: spec.name,
      disk_format: spec.diskFormat,
      container_format: spec.containerFormat,
      ...(spec.visibility ? { visibility: spec.visibility } : {}),
      ...(spec.protected !== undefined ? { protected: spec.protected } : {}),
      ...(spec.minDisk !== undefined ? { min_disk: spec.minDisk } : {}),
      ...(spec.minRam !== undefined ? { min_ram: spec.minRam } : {}),
    };
    return this.keystone.request(
      {
        operation: "glance.images.create",
        method: "POST",
        path: `${await this.v2()}/images`,
        body,
        schema: ImageSchema,
      },
      this.transport,
    );
  }

  /**
   * Sets (or, with `null`, removes) top-level attributes and custom properties by a JSON patch. Used to lift
   * `protected` before Archway deletes one of its own images, and to release a verified one. `current` (the image
   * as just read) saves the read that tells "add" from "replace".
   */
  async update(id: string, changes: Record<string, unknown>, current?: Image): Promise<Image> {
    current ??= await this.get(id);
    const ops = Object.entries(changes).map(([k, v]) =>
      v === null ? { op: "remove", path: `/${k}` } : { op: k in current ? "replace" : "add", path: `/${k}`, value: v },
    );
    return this.keystone.request(
      {
        operation: "glance.images.update",
        method: "PATCH",
        path: `${await this.v2()}/images/${enc(id)}`,
        headers: { "content-type": "application/openstack-images-v2.1-json-patch" },
        body: ops,
        schema: ImageSchema,
      },
      this.transport,
    );
  }

  /** Deletes the image; a protected one is unprotected first. Gone already is fine. */
  async delete(id: string, opts: { unprotect?: boolean } = {}): Promise<void> {
    const path = `${await this.v2()}/images/${enc(id)}`;
    try {
      if (opts.unprotect) await this.update(id, { protected: false });
      await this.keystone.request({ operation: "glance.images.delete", method: "DELETE", path }, this.transport);
    } catch (err) {
      if (err instanceof OpenStackError && err.upstreamStatus === 404) return;
      throw err;
    }
  }

  /**
   * Starts Glance's interoperable import from a URL (`web-download`): Glance fetches it into staging, then its
   * store; the image goes `importing` then `active`. The URL must pass the cloud's import filter
   * (`[import_filtering_opts]`).
   */
  async importWebDownload(id: string, uri: string): Promise<void> {
    await this.keystone.request(
      {
        operation: "glance.images.import",
        method: "POST",
        path: `${await this.v2()}/images/${enc(id)}/import`,
        body: { method: { name: "web-download", uri } },
        // Glance answers 409 to a second import of the same image: sending it twice cannot do harm.
        idempotent: true,
      },
      this.transport,
    );
  }

  /**
   * Streams `body` into the image (`PUT /v2/images/{id}/file`) as it is read, with backpressure: the body is pulled
   * only as fast as Glance takes it. `size`, when known, is sent as Content-Length (else the body is chunked). An
   * aborted or failed body aborts the request, and Glance puts the image back to `queued`. Not retried.
   */
  async upload(id: string, body: UploadBody, opts: { size?: number; signal?: AbortSignal } = {}): Promise<void> {
    const url = `${await this.v2()}/images/${enc(id)}/file`;
    const headers = await this.uploadHeaders(opts.size);
    const stream = body instanceof Readable ? body : Readable.from(body as AsyncIterable<Uint8Array>);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "PUT",
        headers,
        body: stream,
        signal: opts.signal,
        dispatcher: this.uploads.dispatcher,
        // An upload may legitimately wait on a slow peer for a while; the scheduler owns the deadline.
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (err) {
      stream.destroy();
      throw this.uploadCut(id, err);
    }
    const text = await res.body.text();
    if (res.statusCode >= 300) throw this.bulkFailed("upload", res.statusCode, text);
  }

  /**
   * Starts an upload into the image written piece by piece (see {@link UploadWriter}): each write resolves once
   * flushed, so a caller can reuse its read buffers. What the image streamer uses against a real Glance; `upload`
   * remains for any stream body.
   */
  async openUpload(id: string, opts: { size?: number } = {}): Promise<UploadWriter> {
    return startUpload({
      url: `${await this.v2()}/images/${enc(id)}/file`,
      headers: await this.uploadHeaders(opts.size),
      agents: this.uploads.agents,
      fail: (status, body) => this.bulkFailed("upload", status, body),
      cut: (cause) => this.uploadCut(id, cause),
    });
  }

  private async uploadHeaders(size: number | undefined): Promise<Record<string, string>> {
    return {
      "content-type": "application/octet-stream",
      "x-auth-token": await this.keystone.token(),
      ...(size !== undefined ? { "content-length": String(size) } : {}),
    };
  }

  private uploadCut(id: string, cause: unknown): OpenStackError {
    return new OpenStackError(
      "image_upload_interrupted",
      `cloud ${this.cloudId}: upload of image ${id} was cut (${(cause as Error)?.message ?? cause})`,
      503,
      this.info("upload", 0),
      { cause },
    );
  }

  /** The error of an upload or download Glance answered with `status`: its message, or its page's text. */
  private bulkFailed(op: "upload" | "download", status: number, text: string): OpenStackError {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const mapped = codeForStatus("glance", status);
    const detail =
      upstreamMessage(parsed) ??
      text
        .replace(/<[^>]+>/g, " ")
        .trim()
        .slice(0, 200);
    return new OpenStackError(
      mapped.code,
      `cloud ${this.cloudId}: glance glance.images.${op} failed with HTTP ${status}${detail ? `: ${detail}` : ""}`,
      mapped.status,
      this.info(op, status),
    );
  }

  /**
   * Shares a `shared` image with a project and accepts the membership on its behalf (as admin), so the image shows
   * in the project's listing at once. Already a member is fine.
   */
  async share(id: string, projectId: string): Promise<void> {
    const members = `${await this.v2()}/images/${enc(id)}/members`;
    try {
      await this.keystone.request(
        { operation: "glance.images.members.create", method: "POST", path: members, body: { member: projectId } },
        this.transport,
      );
    } catch (err) {
      if (!(err instanceof OpenStackError && err.upstreamStatus === 409)) throw err;
    }
    await this.keystone.request(
      {
        operation: "glance.images.members.update",
        method: "PUT",
        path: `${members}/${enc(projectId)}`,
        body: { status: "accepted" },
        idempotent: true,
      },
      this.transport,
    );
  }

  /** The projects a `shared` image is shared with (`GET /v2/images/{id}/members`), with their status. */
  async members(id: string): Promise<ImageMember[]> {
    const reply = await this.keystone.request(
      {
        operation: "glance.images.members.list",
        method: "GET",
        path: `${await this.v2()}/images/${enc(id)}/members`,
        schema: ImageMemberListSchema,
      },
      this.transport,
    );
    return reply.members;
  }

  /** Stops sharing the image with a project (`DELETE /v2/images/{id}/members/{member}`). Not a member is fine. */
  async unshare(id: string, projectId: string): Promise<void> {
    try {
      await this.keystone.request(
        {
          operation: "glance.images.members.delete",
          method: "DELETE",
          path: `${await this.v2()}/images/${enc(id)}/members/${enc(projectId)}`,
          idempotent: true,
        },
        this.transport,
      );
    } catch (err) {
      if (!(err instanceof OpenStackError && err.upstreamStatus === 404)) throw err;
    }
  }

  /**
   * Streams the image's data (`GET /v2/images/{id}/file`) as it comes, with backpressure, on the uploads' pool (a
   * download holds its socket as long as an upload). `size` is the Content-Length when Glance sends one. Not retried
   * (the caller reads the stream; a cut read is the caller's retry).
   */
  async download(
    id: string,
    opts: { signal?: AbortSignal; highWaterMark?: number } = {},
  ): Promise<{
    stream: Readable;
    size?: number;
  }> {
    const url = `${await this.v2()}/images/${enc(id)}/file`;
    const token = await this.keystone.token();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: "GET",
        headers: { "x-auth-token": token },
        signal: opts.signal,
        dispatcher: this.uploads.dispatcher,
        ...(opts.highWaterMark ? { highWaterMark: opts.highWaterMark } : {}),
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (err) {
      throw new OpenStackError(
        "cloud_unavailable",
        `cloud ${this.cloudId}: download of image ${id} failed (${(err as Error)?.message ?? err})`,
        503,
        this.info("download", 0),
        { cause: err },
      );
    }
    if (res.statusCode !== 200) {
      throw this.bulkFailed("download", res.statusCode, await res.body.text().catch(() => ""));
    }
    const length = Number(res.headers["content-length"]);
    return { stream: res.body, ...(Number.isFinite(length) ? { size: length } : {}) };
  }

  private info(op: string, upstreamStatus = 0) {
    return { cloudId: this.cloudId, operation: `glance.images.${op}`, upstreamStatus };
  }
}

/**
 * The Glance client of a cloud, on the cloud's Keystone admin session and concurrency limit; the `image` URL comes
 * from the admin token's catalog. Uploads get their own connection pool (closed by the returned `close`).
 */
export function createGlanceClient(
  clients: CloudClients,
  opts: { timeoutMs?: number } = {},
): { glance: GlanceClient; close: () => Promise<void> } {
  const { cloud } = clients;
  const pools = bulkPools();
  const transport = new Transport({
    cloudId: cloud.id,
    service: "glance",
    limiter: clients.limiter,
    timeoutMs: opts.timeoutMs ?? cloud.timeoutMs,
    dispatcher: pools.dispatcher,
  });
  let url: Promise<string> | undefined;
  const endpoint = () => {
    url ??= clients.keystone.endpoint("image", { interface: cloud.interface, region: cloud.region });
    url.catch(() => {
      url = undefined;
    });
    return url;
  };
  return {
    glance: new GlanceClient(clients.keystone, transport, endpoint, pools),
    close: pools.close,
  };
}
