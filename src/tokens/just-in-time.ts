import { ArchwayError } from "../errors.js";
import type { Identity } from "../identity/index.js";

/** The error code of a request that waited its bound for a person's account to be provisioned in a cloud. */
export const CLOUD_PROVISIONING = "cloud_provisioning";

/** Seconds a client should wait before retrying after {@link ProvisioningPending}. */
const PROVISIONING_RETRY_AFTER_SECONDS = 5;

/**
 * A request that stopped waiting for the just-in-time provisioning of its person in a cloud (503): the provisioning
 * goes on, and a retry after `retryAfterSeconds` (sent as `Retry-After`) may find the account ready.
 */
export class ProvisioningPending extends ArchwayError {
  readonly retryAfterSeconds = PROVISIONING_RETRY_AFTER_SECONDS;

  constructor(cloudId: string, waitedMs: number) {
    super(
      CLOUD_PROVISIONING,
      `your account is being provisioned in ${cloudId} (still running after ${Math.round(waitedMs / 1000)} s); retry in a few seconds`,
      503,
    );
  }
}

/**
 * Just-in-time provisioning of one person in one cloud, bounded and deduplicated: a second request for the same
 * (person, cloud) joins the run in flight instead of starting another, and every request waits for it at most a
 * given time. A run outlives the requests that gave up on it; it is never cancelled by them. (Across processes,
 * sync's per-person run lock keeps two runs from doing the same work at once.)
 */
export class JustInTime {
  readonly #ensure: (identity: Identity, cloudId: string) => Promise<void>;
  readonly #inFlight = new Map<string, { run: Promise<void>; waiting: number }>();
  readonly #onLateFailure: (err: unknown, cloudId: string) => void;

  /**
   * `ensure` provisions the person in the cloud; `onLateFailure` hears of a run that failed after every request
   * had stopped waiting for it (no one else will).
   */
  constructor(
    ensure: (identity: Identity, cloudId: string) => Promise<void>,
    opts: { onLateFailure?: (err: unknown, cloudId: string) => void } = {},
  ) {
    this.#ensure = ensure;
    this.#onLateFailure = opts.onLateFailure ?? (() => {});
  }

  /** Runs in flight now (one per person and cloud). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Resolves once `identity` is provisioned in `cloudId` (rejects with the run's error), starting the run or joining
   * the one in flight; throws {@link ProvisioningPending} when it lasts longer than `waitMs`.
   */
  async provision(identity: Identity, cloudId: string, waitMs: number): Promise<void> {
    // A key of two fields, never one joined string: ids are free text in some sources.
    const key = JSON.stringify([identity.id, cloudId]);
    let entry = this.#inFlight.get(key);
    if (!entry) {
      const run = Promise.resolve()
        .then(() => this.#ensure(identity, cloudId))
        .finally(() => this.#inFlight.delete(key));
      const started = { run, waiting: 0 };
      entry = started;
      this.#inFlight.set(key, started);
      // Registered before any waiter's, so it runs while they still count: only a failure nobody waits for is late.
      run.catch((err: unknown) => {
        if (started.waiting === 0) this.#onLateFailure(err, cloudId);
      });
    }
    entry.waiting++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), waitMs);
      });
      if ((await Promise.race([entry.run, late])) === "late") throw new ProvisioningPending(cloudId, waitMs);
    } finally {
      clearTimeout(timer);
      entry.waiting--;
    }
  }
}
