import { ArchwayError } from "../../errors.js";
import { isUpstreamStatus } from "../../openstack/index.js";

/** Creates; on 409 (created by an earlier, interrupted run) re-reads and adopts it when it is Archway's. */
export async function adoptOnConflict<T>(create: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!isUpstreamStatus(err, 409)) throw err;
    const existing = await find();
    if (existing) return existing;
    throw err;
  }
}

/** Runs a removal; 404 (already gone) counts as done. */
export async function ignoreNotFound(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if (!isUpstreamStatus(err, 404)) throw err;
  }
}

/** `ids.get(key)`; throws `sync_unresolved` when missing (an object an earlier phase should have made). */
export function requireId(ids: ReadonlyMap<string, string>, key: string, what: string): string {
  const id = ids.get(key);
  if (!id) throw new ArchwayError("sync_unresolved", `${what} ${key} does not exist (an earlier step failed)`, 409);
  return id;
}
