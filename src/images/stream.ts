import { ArchwayError, isArchwayError } from "../errors.js";
import type { Image } from "../openstack/glance.js";
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
import {
  checkPin,
  KnownDigests,
  SOURCE_DIGEST_MISMATCH,
  type SourceDigests,
  streamDigester,
  verifyImage,
} from "./digests.js";
import { describeSource, openChunks } from "./source.js";
import { tee } from "./tee.js";
import type { TargetOutcome, TransferReport, TransferRequest } from "./types.js";
import { allWriters, openUploads } from "./uploads.js";

/**
 * Streams one image to every target: targets are grouped in waves (as many as have a free slot, up to the fanout);
 * each wave reads the source once and tees it to the wave's uploads. A target whose attempt fails gets its image
 * deleted and waits its backoff before joining a later wave; a source that does not match its pin is refused for
 * every target (the last chunk is never sent, so no image goes active); an uploaded image whose Glance digests
 * differ from the source's is deleted and reported. With the source's digests known (`expected`) nothing is hashed
 * here: Glance's hashes of each copy are compared with them. Every copy stays private to Archway's project and
 * unprotected until verified (see {@link quarantinedSpec}).
 */
export async function streamImage(ctx: TransferContext, req: TransferRequest): Promise<TransferReport> {
  const queue: Pending[] = req.targets.map((target) => ({ target, attempt: 0, notBefore: 0, leftovers: [] }));
  const outcomes: TargetOutcome[] = [];
  const running = new Set<Promise<void>>();
  const state: { refused?: unknown; digests?: SourceDigests } = {};
  const settle = async (p: Pending, err: unknown) => {
    await discard(p, req.image.protected === true);
    if (state.refused || permanent(err) || p.attempt >= ctx.backoff.attempts) {
      outcomes.push(failed(p, state.refused ?? err));
      ctx.report({ cloudId: p.target.cloudId, image: req.image.name, phase: "failed", attempt: p.attempt });
      return;
    }
    p.lastError = err;
    p.notBefore = ctx.now() + ctx.retryDelay(p.attempt);
    ctx.report({ cloudId: p.target.cloudId, image: req.image.name, phase: "retrying", attempt: p.attempt });
    queue.push(p);
  };

  const runWave = async (wave: Pending[]) => {
    try {
      await waveOnce(ctx, req, wave, state, settle, outcomes);
    } finally {
      for (const p of wave) ctx.slots.release(p.target.cloudId);
    }
  };

  while (queue.length > 0 || running.size > 0) {
    if (state.refused) {
      for (const p of queue.splice(0)) outcomes.push(failed(p, state.refused));
      if (running.size === 0) break;
    }
    const now = ctx.now();
    const wave: Pending[] = [];
    for (let i = 0; i < queue.length && wave.length < ctx.fanout; ) {
      const p = queue[i] as Pending;
      if (p.notBefore <= now && ctx.slots.tryAcquire(p.target.cloudId)) {
        wave.push(p);
        queue.splice(i, 1);
      } else i++;
    }
    if (wave.length > 0) {
      const run = runWave(wave).finally(() => running.delete(run));
      running.add(run);
      continue;
    }
    const waits: Promise<unknown>[] = [...running, ctx.slots.changed()];
    const next = Math.min(...queue.map((p) => p.notBefore));
    if (Number.isFinite(next) && next > now) waits.push(ctx.sleep(next - now));
    await Promise.race(waits);
  }
  // In the targets' order, whatever order they finished in.
  const order = new Map(req.targets.map((t, i) => [t.cloudId, i]));
  outcomes.sort((a, b) => (order.get(a.cloudId) ?? 0) - (order.get(b.cloudId) ?? 0));
  return { ...(state.digests ? { digests: state.digests } : {}), outcomes };
}

async function waveOnce(
  ctx: TransferContext,
  req: TransferRequest,
  wave: Pending[],
  state: { refused?: unknown; digests?: SourceDigests },
  settle: (p: Pending, err: unknown) => Promise<void>,
  outcomes: TargetOutcome[],
): Promise<void> {
  const name = req.image.name;
  const spec = quarantinedSpec(req.image, req.mark);
  // A new attempt starts by removing what earlier ones left, then makes a fresh image: never resume a broken one.
  const created: Pending[] = [];
  await Promise.all(
    wave.map(async (p) => {
      p.attempt++;
      ctx.report({ cloudId: p.target.cloudId, image: name, phase: "creating", attempt: p.attempt });
      try {
        await discard(p, req.image.protected === true);
        p.image = await p.target.glance.create(spec);
        created.push(p);
      } catch (err) {
        await settle(p, err);
      }
    }),
  );
  if (created.length === 0) return;

  let opened: Awaited<ReturnType<typeof openChunks>>;
  try {
    opened = await openChunks(req.source, { chunkBytes: ctx.chunkBytes, pooled: allWriters(created) });
  } catch (err) {
    for (const p of created) await settle(p, err);
    return;
  }
  const { sinks, outcomes: uploads } = await openUploads(created, opened.size, ctx.sinkBufferBytes);
  const digester = streamDigester(req.source.pin, req.expected, describeSource(req.source));
  const result = await tee(opened.chunks, sinks, {
    digester,
    pace: (n, ids) => ctx.pace(n, ids),
    beforeEnd: (digests) => checkPin(req.source.pin, digests, describeSource(req.source)),
    onProgress: (bytes) => {
      for (const p of created)
        ctx.report({
          cloudId: p.target.cloudId,
          image: name,
          phase: "uploading",
          attempt: p.attempt,
          bytes,
          ...total(opened.size),
        });
    },
  });
  const errors = await Promise.all(uploads);
  if (!result.ok && isArchwayError(result.error) && result.error.code === SOURCE_DIGEST_MISMATCH) {
    state.refused = result.error;
  }
  if (result.ok) state.digests = result.digests;

  const checked = await Promise.all(
    created.map(async (p, i): Promise<Checked> => {
      const err = errors[i] ?? (result.ok ? undefined : result.error);
      if (err !== undefined || !result.ok) return { p, err: err ?? new Error("transfer failed") };
      ctx.report({ cloudId: p.target.cloudId, image: name, phase: "verifying", attempt: p.attempt });
      try {
        const image = await p.target.glance.get(p.image?.id ?? "");
        return { p, image, why: verifyImage(image, result.digests) };
      } catch (e) {
        return { p, err: e };
      }
    }),
  );
  if (result.ok && digester instanceof KnownDigests) state.refused ??= sourceChanged(checked, req);
  await Promise.all(
    checked.map(async ({ p, image, why, err }) => {
      if (!image || err !== undefined) return settle(p, err ?? new Error("transfer failed"));
      if (why) return settle(p, state.refused ?? verificationError(p.target.cloudId, why));
      try {
        await releaseImage(p.target.glance, image, req.image);
        // Verified: the size Glance reports is the source's.
        const bytes = image.size ?? 0;
        outcomes.push({ cloudId: p.target.cloudId, ok: true, imageId: image.id, attempts: p.attempt, bytes });
        ctx.report({ cloudId: p.target.cloudId, image: name, phase: "active", attempt: p.attempt, bytes });
      } catch (e) {
        return settle(p, e);
      }
    }),
  );
}

/** One upload of a wave after it ended: the image Glance reports and why it does not match, or the failure. */
interface Checked {
  p: Pending;
  image?: Image;
  why?: string;
  err?: unknown;
}

/**
 * With known digests Glance's hashes are the only check of the source: when every copy Glance finished carries the
 * same wrong sha512, the bytes Archway read were not the source that was hashed (changed in place at the same
 * size), not a transfer fault of one cloud; the source is refused for the whole request.
 */
function sourceChanged(checked: readonly Checked[], req: TransferRequest): ArchwayError | undefined {
  const finished = checked.filter((c) => c.image);
  const hashes = new Set(finished.map((c) => c.image?.os_hash_value));
  if (finished.length === 0 || finished.some((c) => !c.why) || hashes.size !== 1) return undefined;
  return new ArchwayError(
    SOURCE_DIGEST_MISMATCH,
    `${describeSource(req.source)}: every cloud hashed what was read differently from the source's known digests: it changed since it was hashed; refused`,
    422,
  );
}

function total(size: number | undefined): { total?: number } {
  return size !== undefined ? { total: size } : {};
}
