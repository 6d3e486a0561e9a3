import { randomUUID } from "node:crypto";
import { LockoutConfigSchema } from "../../src/config/index.js";
import { type Identity, LoginGuard, type PasswordSource } from "../../src/identity/index.js";
import type { Store } from "../../src/store/index.js";

/** What the source saw while N attempts ran at once. */
export interface ConcurrentRun {
  /** Checks that reached the source. */
  checks: number;
  /** Of them, wrong passwords. */
  wrongChecks: number;
  /** The most checks in progress at one time. */
  maxInFlight: number;
  /** The answer to each attempt: 201 (signed in), 401 or 429. */
  statuses: number[];
}

/**
 * Runs `passwords.length` sign-ins at once for one fresh username from one address through a `LoginGuard` on
 * `store`, with a per-pair limit of `limit` (the other limits out of the way). `pause(i)` runs inside the
 * source's check of attempt `i`: a scheduler's step, or a random delay against a real store.
 */
export async function concurrentAttempts(opts: {
  store: Store;
  limit: number;
  /** true: the right password. */
  rights: readonly boolean[];
  pause: (i: number) => Promise<void>;
}): Promise<ConcurrentRun> {
  const username = `prop-${randomUUID()}`;
  const identity: Identity = {
    id: `prop:${username}`,
    source: "prop",
    username,
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes: {},
  };
  const run: ConcurrentRun = { checks: 0, wrongChecks: 0, maxInFlight: 0, statuses: [] };
  let inFlight = 0;
  const source: PasswordSource & { index: Map<string, number> } = {
    id: "prop",
    type: "static",
    index: new Map(),
    ping: async () => {},
    close: async () => {},
    login: async (_u, password) => {
      const i = Number(password.split("#")[1]);
      run.checks++;
      inFlight++;
      run.maxInFlight = Math.max(run.maxInFlight, inFlight);
      await opts.pause(i);
      inFlight--;
      if (password.startsWith("right#")) return identity;
      run.wrongChecks++;
      return null;
    },
  };
  const guard = new LoginGuard({
    store: opts.store,
    audit: async () => {},
    limits: LockoutConfigSchema.parse({
      // Refuse at once when the pair is full: the interleavings are the scheduler's, not the clock's.
      perUserAndAddress: { maxFailures: opts.limit, inFlightWaitMs: 0 },
      perUser: { freeFailures: 10_000 },
      perAddress: { freeFailures: 10_000 },
    }),
  });
  run.statuses = await Promise.all(
    opts.rights.map((right, i) =>
      guard.login(source, username, `${right ? "right" : "wrong"}#${i}`, "192.0.2.200").then(
        () => 201,
        (e: { status?: number }) => e.status ?? 500,
      ),
    ),
  );
  return run;
}
