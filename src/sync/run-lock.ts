import { hostname } from "node:os";
import { z } from "zod";
import { ArchwayError } from "../errors.js";
import type { Lock, Store } from "../store/index.js";

/** Who holds a run lock, kept beside it in the store so a second runner can say whom it waits for. */
export const RunHolderSchema = z.object({
  runId: z.string(),
  scope: z.string(),
  host: z.string(),
  pid: z.number(),
  since: z.string(),
});
export type RunHolder = z.infer<typeof RunHolderSchema>;

/** The error code of a run refused because another run of the same scope is in progress. */
export const RUN_LOCKED = "sync_run_locked";

/** Options of {@link acquireRunLocks}. */
export interface RunLockOptions {
  /** Wait for the holder to finish instead of failing (`sync apply --wait`); at most `waitMs` (default: no bound). */
  wait?: boolean;
  waitMs?: number;
  /** Called once when the run has to wait, with the holder it waits for. */
  onWait?: (holder: RunHolder | undefined) => void;
  /** Expiry of the locks (default 60 s); renewed every third of it while the run lasts. */
  ttlMs?: number;
  pollMs?: number;
}

/** Locks held by one run; `release` stops their renewal and frees them. */
export interface HeldRun {
  release(): Promise<void>;
}

const lockKey = (scope: string) => `sync:run:${scope}`;
const holderKey = (scope: string) => `sync:run:${scope}:holder`;

/**
 * Takes the run lock of every scope (`full:<cloud>` per cloud of a full run, `incremental`, `person:<id>`), all or
 * none: two runs of the same scope at once would both do every write. The locks expire on their own (a runner
 * that died frees them within `ttlMs`) and are renewed while the run lasts. When one is held, this throws
 * {@link RUN_LOCKED} naming the holder, or with `wait` polls until all are free.
 */
export async function acquireRunLocks(
  store: Store,
  scopes: readonly string[],
  runId: string,
  opts: RunLockOptions = {},
): Promise<HeldRun> {
  const ttlMs = opts.ttlMs ?? 60_000;
  const deadline = opts.waitMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.waitMs;
  let told = false;
  // Sorted, so two runs over overlapping clouds take them in the same order and one of them wins outright.
  const ordered = [...new Set(scopes)].sort();
  let unknownSince: number | undefined;
  for (;;) {
    const held: Lock[] = [];
    const mine: string[] = [];
    let busy: string | undefined;
    let holder: RunHolder | undefined;
    for (const scope of ordered) {
      const lock = await store.acquireLock(lockKey(scope), ttlMs);
      if (lock) {
        held.push(lock);
        mine.push(scope);
        continue;
      }
      holder = await readHolder(store, scope);
      // The same run submitted again (an idempotent resubmission): its jobs are deduplicated by id, so it joins.
      if (holder?.runId === runId) continue;
      busy = scope;
      break;
    }
    if (busy === undefined) return hold(store, mine, held, runId, ttlMs);
    await Promise.allSettled(held.map((l) => l.release()));
    // Its holder is written just after the locks are taken: look again for a moment before calling it a stranger.
    if (!holder) {
      unknownSince ??= Date.now();
      if (Date.now() - unknownSince < 2_000) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
    }
    if (!opts.wait || Date.now() > deadline) throw lockedError(busy, holder);
    if (!told) opts.onWait?.(holder);
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000));
  }
}

async function hold(store: Store, scopes: string[], locks: Lock[], runId: string, ttlMs: number): Promise<HeldRun> {
  const since = new Date().toISOString();
  const writeHolders = () =>
    Promise.all(
      scopes.map((scope) =>
        store.set(
          holderKey(scope),
          JSON.stringify({ runId, scope, host: hostname(), pid: process.pid, since } satisfies RunHolder),
          { ttlMs },
        ),
      ),
    );
  await writeHolders();
  const renew = setInterval(
    () => {
      // A failed renewal (the store is briefly away) is retried at the next tick; the lock lasts ttlMs meanwhile.
      void Promise.all([...locks.map((l) => l.extend(ttlMs)), writeHolders()]).catch(() => {});
    },
    Math.max(100, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  return {
    async release() {
      clearInterval(renew);
      await Promise.allSettled(locks.map((l) => l.release()));
      await Promise.allSettled(scopes.map((s) => store.delete(holderKey(s))));
    },
  };
}

async function readHolder(store: Store, scope: string): Promise<RunHolder | undefined> {
  try {
    const raw = await store.get(holderKey(scope));
    const parsed = raw ? RunHolderSchema.safeParse(JSON.parse(raw)) : undefined;
    return parsed?.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A one-line description of a holder, for the refused runner's message. */
export function describeHolder(holder: RunHolder | undefined): string {
  return holder
    ? `run ${holder.runId} on ${holder.host} (pid ${holder.pid}) since ${holder.since}`
    : "another run (its details are not known yet)";
}

function lockedError(scope: string, holder: RunHolder | undefined): ArchwayError {
  return new ArchwayError(
    RUN_LOCKED,
    `another sync run holds the lock of '${scope}': ${describeHolder(holder)}; it will be released when that run ends (or within a minute if it died). Use --wait to run after it.`,
    409,
  );
}
