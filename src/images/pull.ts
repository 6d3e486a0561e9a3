import { ArchwayError } from "../errors.js";
import { imageProperties } from "../openstack/glance.js";
import {
  discard,
  failed,
  type Pending,
  permanent,
  quarantinedSpec,
  releaseImage,
  type TransferContext,
  verificationError,
} from "./context.js";
import { checkPin, digesterFor, type SourceDigests, verifyImage } from "./digests.js";
import { describeSource, openSource } from "./source.js";
import type { TargetOutcome, TransferReport, TransferRequest } from "./types.js";

/** Code of an import Glance gave up on (`os_glance_failed_import`), or one that did not finish in time. */
export const IMPORT_FAILED = "image_import_failed";

/**
 * Reads the source once, digesting it (nothing is stored), and checks it against its pin: the digests are what
 * every pulled image is verified against, and a source that fails its pin is refused before any cloud pulls it.
 */
export async function digestSource(ctx: TransferContext, req: Pick<TransferRequest, "source">): Promise<SourceDigests> {
  const opened = await openSource(req.source, { chunkBytes: ctx.chunkBytes });
  const digester = digesterFor(req.source.pin);
  for await (const chunk of opened.stream as AsyncIterable<Buffer>) digester.update(chunk);
  const digests = digester.digest();
  checkPin(req.source.pin, digests, describeSource(req.source));
  return digests;
}

/**
 * Lets every target cloud pull the image itself (Glance's interoperable import, `web-download`) from the source
 * URL or the target's mirror, under the same concurrency slots and retries as streaming; each image is verified
 * against the source's digests once active (private to Archway's project until then), and deleted on a mismatch.
 */
export async function pullImage(ctx: TransferContext, req: TransferRequest): Promise<TransferReport> {
  if (req.source.kind !== "url" && req.targets.some((t) => !t.pullUrl)) {
    throw new ArchwayError(
      "image_pull_needs_url",
      `${describeSource(req.source)}: a cloud can only pull from a URL`,
      400,
    );
  }
  let digests: SourceDigests;
  try {
    digests = req.expected ?? (await digestSource(ctx, req));
  } catch (err) {
    const outcomes = req.targets.map((target) => failed({ target, attempt: 0, notBefore: 0, leftovers: [] }, err));
    return { outcomes };
  }
  const outcomes = await Promise.all(req.targets.map((target) => pullOne(ctx, req, digests, target)));
  return { digests, outcomes };
}

async function pullOne(
  ctx: TransferContext,
  req: TransferRequest,
  digests: SourceDigests,
  target: TransferRequest["targets"][number],
): Promise<TargetOutcome> {
  const p: Pending = { target, attempt: 0, notBefore: 0, leftovers: [] };
  const uri = target.pullUrl ?? (req.source.kind === "url" ? req.source.url : "");
  const name = req.image.name;
  const protectedImage = req.image.protected === true;
  for (;;) {
    while (!ctx.slots.tryAcquire(target.cloudId)) await ctx.slots.changed();
    let err: unknown;
    try {
      p.attempt++;
      await discard(p, protectedImage);
      ctx.report({ cloudId: target.cloudId, image: name, phase: "creating", attempt: p.attempt });
      p.image = await target.glance.create(quarantinedSpec(req.image, req.mark));
      await target.glance.importWebDownload(p.image.id, uri);
      ctx.report({ cloudId: target.cloudId, image: name, phase: "importing", attempt: p.attempt, total: digests.size });
      const image = await waitForImport(ctx, target, p.image.id);
      const why = verifyImage(image, digests);
      if (!why) {
        await releaseImage(target.glance, image, req.image);
        ctx.report({ cloudId: target.cloudId, image: name, phase: "active", attempt: p.attempt, bytes: digests.size });
        return { cloudId: target.cloudId, ok: true, imageId: image.id, attempts: p.attempt, bytes: digests.size };
      }
      err = verificationError(target.cloudId, why);
    } catch (e) {
      err = e;
    } finally {
      ctx.slots.release(target.cloudId);
    }
    await discard(p, protectedImage);
    if (permanent(err) || p.attempt >= ctx.backoff.attempts) {
      ctx.report({ cloudId: target.cloudId, image: name, phase: "failed", attempt: p.attempt });
      return failed(p, err);
    }
    ctx.report({ cloudId: target.cloudId, image: name, phase: "retrying", attempt: p.attempt });
    await ctx.sleep(ctx.retryDelay(p.attempt));
  }
}

/** Polls the image until the import ends: active, or failed (`os_glance_failed_import`, killed, back to queued). */
async function waitForImport(ctx: TransferContext, target: TransferRequest["targets"][number], id: string) {
  const deadline = ctx.now() + ctx.importTimeoutMs;
  for (;;) {
    const image = await target.glance.get(id);
    const props = imageProperties(image);
    if (image.status === "active") return image;
    const failedStores = props.os_glance_failed_import ?? "";
    if (image.status === "killed" || failedStores !== "") {
      throw new ArchwayError(
        IMPORT_FAILED,
        `cloud ${target.cloudId}: web-download import of image ${id} failed (status ${image.status})`,
        502,
      );
    }
    if (ctx.now() > deadline) {
      throw new ArchwayError(
        IMPORT_FAILED,
        `cloud ${target.cloudId}: import of image ${id} not done after ${ctx.importTimeoutMs} ms`,
        504,
      );
    }
    await ctx.sleep(ctx.pollMs);
  }
}
