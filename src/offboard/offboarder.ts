import type { Audit } from "../audit/index.js";
import type { Cloud } from "../config/index.js";
import { type OffboardedEntry, OffboardedPeople } from "../identity/index.js";
import { type CloudClients, mapLimit } from "../openstack/index.js";
import type { Store } from "../store/index.js";
import type { Ownership } from "../sync/index.js";
import { type CloudChange, offboardInCloud, type Person, restoreInCloud } from "./cloud.js";
import { type PendingEntry, PendingOffboards } from "./pending.js";

/** Ends every Archway session of a person (the session service's `endPerson`). */
export interface PersonSessions {
  /**
   * Ends the person's sessions with their tokens, refresh tokens and grants (only login sessions with
   * `kind: "login"`); resolves how many were ended.
   */
  endPerson(personId: string, reason: string, opts?: { kind?: "login" | "offline" }): Promise<number>;
}

/** What the offboarder needs, passed in once. */
export interface OffboarderDeps {
  clouds: readonly Cloud[];
  clients: (cloud: Cloud) => CloudClients;
  store: Store;
  audit: Audit;
  sessions: PersonSessions;
  /** Forgets the token broker's cached Keystone tokens of a person. */
  purgeBrokerCache: (personId: string) => Promise<void>;
  /** Only users this deployment marked are disabled or restored (see src/sync/ownership.ts). */
  ownership: Ownership;
  /** Clouds worked on at once (default 64): a slow cloud holds one slot, never the others. */
  concurrency?: number;
  /** First retry delay for a cloud that was down (doubles per attempt). */
  retryMs?: number;
  now?: () => Date;
}

/** One cloud's outcome: done, nothing there for this person, or waiting for the cloud to come back. */
export interface CloudOutcome extends CloudChange {
  cloudId: string;
  state: "done" | "absent" | "pending";
  error?: string;
  ms: number;
}

/** The final report of one offboarding or restore. */
export interface OffboardReport {
  person: Person;
  action: "offboard" | "restore";
  cause: OffboardedEntry["cause"] | "undo";
  sessionsEnded: number;
  clouds: CloudOutcome[];
  done: number;
  pending: number;
}

/**
 * Does offboarding, in this order: the person is marked offboarded (logins refused, sync never provisions or
 * re-enables them), their Archway sessions, tokens and grants are ended and the broker's cached Keystone tokens
 * forgotten; then every cloud at once: users disabled, application credentials deleted. A cloud that fails is
 * queued ({@link PendingOffboards}) and retried by {@link Offboarder.retryPending}; it never blocks the others.
 * Offboarding is never held by sync's deletes limit, and each cloud's outcome is audited.
 */
export class Offboarder {
  readonly offboarded: OffboardedPeople;
  readonly pending: PendingOffboards;
  readonly #now: () => Date;
  readonly #domains = new Map<string, Promise<string | undefined>>();

  constructor(private readonly deps: OffboarderDeps) {
    this.#now = deps.now ?? (() => new Date());
    this.offboarded = new OffboardedPeople({ store: deps.store, now: () => this.#now().getTime() });
    this.pending = new PendingOffboards(deps.store, {
      retryMs: deps.retryMs ?? 30_000,
      now: () => this.#now().getTime(),
    });
  }

  /** Offboards `person` now (see the class). `onCloud` hears each cloud's outcome as it comes. */
  async offboard(
    person: Person,
    opts: {
      cause: OffboardedEntry["cause"];
      reason: string;
      actor: string;
      onCloud?: (o: CloudOutcome) => void;
    },
  ): Promise<OffboardReport> {
    const at = this.#now();
    // Departed people can never come back under the same immutable id; the entry only has to outlive their tokens.
    const until = opts.cause === "departed" ? at.getTime() + 90 * 24 * 3600_000 : undefined;
    await this.offboarded.add(person.id, {
      username: person.username,
      cause: opts.cause,
      reason: opts.reason,
      at: at.toISOString(),
      ...(until ? { until } : {}),
    });
    const sessionsEnded = await this.deps.sessions.endPerson(person.id, `offboarded: ${opts.reason}`);
    await this.deps.purgeBrokerCache(person.id);
    await this.deps.audit({
      type: "offboard.archway",
      actor: opts.actor,
      identity: person.id,
      username: person.username,
      cause: opts.cause,
      reason: opts.reason,
      sessionsEnded,
    });
    const clouds = await this.#everyCloud(person, "offboard", opts.reason, opts.actor, opts.onCloud);
    return this.#report(person, "offboard", opts.cause, sessionsEnded, clouds);
  }

  /**
   * Undoes an offboarding: the person may log in again and is enabled again in every cloud (queued where a cloud is
   * down). Sessions stay ended and deleted application credentials stay deleted.
   */
  async restore(
    person: Person,
    opts: { reason: string; actor: string; onCloud?: (o: CloudOutcome) => void },
  ): Promise<OffboardReport> {
    await this.offboarded.remove(person.id);
    await this.deps.audit({ type: "offboard.undo", actor: opts.actor, identity: person.id, reason: opts.reason });
    const clouds = await this.#everyCloud(person, "restore", opts.reason, opts.actor, opts.onCloud);
    return this.#report(person, "restore", "undo", 0, clouds);
  }

  /** Retries what waits for clouds that were down (due entries only); resolves the outcomes. */
  async retryPending(): Promise<CloudOutcome[]> {
    const due = await this.pending.due();
    if (due.length === 0) return [];
    const byCloud = new Map<string, [string, PendingEntry][]>();
    for (const [cloudId, id, entry] of due) byCloud.set(cloudId, [...(byCloud.get(cloudId) ?? []), [id, entry]]);
    const results = await mapLimit([...byCloud], this.deps.concurrency ?? 64, async ([cloudId, people]) => {
      const cloud = this.deps.clouds.find((c) => c.id === cloudId);
      const out: { outcome?: CloudOutcome; record: PendingRecord }[] = [];
      for (const [id, entry] of people) {
        // A cloud that left the configuration has nothing to wait for any more.
        const outcome = cloud
          ? await this.#one(cloud, { id, username: entry.username }, entry.action, "retry")
          : undefined;
        out.push({
          outcome,
          record: recordOf(cloudId, { id, username: entry.username }, entry.action, entry.reason, outcome),
        });
      }
      return out;
    });
    await this.pending.record(results.flat().map((r) => r.record));
    return results.flat().flatMap((r) => (r.outcome ? [r.outcome] : []));
  }

  async #everyCloud(
    person: Person,
    action: "offboard" | "restore",
    reason: string,
    actor: string,
    onCloud?: (o: CloudOutcome) => void,
  ): Promise<CloudOutcome[]> {
    const waiting = await this.pending.all();
    const outcomes = await mapLimit(this.deps.clouds, this.deps.concurrency ?? 64, async (cloud) => {
      const o = await this.#one(cloud, person, action, actor);
      onCloud?.(o);
      return o;
    });
    // One write for every cloud: a failure queues the person there, a success clears what waited.
    await this.pending.record(
      outcomes
        .filter((o) => o.state === "pending" || waiting[o.cloudId]?.[person.id])
        .map((o) => recordOf(o.cloudId, person, action, reason, o)),
    );
    return outcomes;
  }

  /** One person in one cloud: the change and its audit event; a cloud-side failure is an outcome, not a throw. */
  async #one(cloud: Cloud, person: Person, action: "offboard" | "restore", actor: string): Promise<CloudOutcome> {
    const started = Date.now();
    const clients = this.deps.clients(cloud);
    const domainId = () => this.#domainId(clients);
    let outcome: CloudOutcome;
    try {
      const change =
        action === "offboard"
          ? await offboardInCloud(clients, person, { now: this.#now, domainId, ownership: this.deps.ownership })
          : await restoreInCloud(clients, person, { domainId, ownership: this.deps.ownership });
      const state = change.users === 0 && change.appCredentials === 0 ? "absent" : "done";
      outcome = { cloudId: cloud.id, state, ...change, ms: Date.now() - started };
    } catch (err) {
      outcome = {
        cloudId: cloud.id,
        state: "pending",
        users: 0,
        appCredentials: 0,
        error: (err as Error).message,
        ms: Date.now() - started,
      };
    }
    await this.deps.audit({
      type: action === "offboard" ? "offboard.cloud" : "offboard.restore.cloud",
      actor,
      cloud: cloud.id,
      identity: person.id,
      state: outcome.state,
      users: outcome.users,
      appCredentials: outcome.appCredentials,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    return outcome;
  }

  /** The cloud's Archway domain id, looked up once (a failed lookup is tried again next time). */
  #domainId(clients: CloudClients): Promise<string | undefined> {
    const { cloud } = clients;
    let found = this.#domains.get(cloud.id);
    if (!found) {
      found = clients.keystone.listDomains({ name: cloud.domain }).then((d) => d[0]?.id);
      this.#domains.set(cloud.id, found);
      // Not there yet (sync makes it) or the cloud is down: look again next time.
      found.then(
        (id) => id === undefined && this.#domains.delete(cloud.id),
        () => this.#domains.delete(cloud.id),
      );
    }
    return found;
  }

  #report(
    person: Person,
    action: OffboardReport["action"],
    cause: OffboardReport["cause"],
    sessionsEnded: number,
    clouds: CloudOutcome[],
  ): OffboardReport {
    const pending = clouds.filter((c) => c.state === "pending").length;
    return { person, action, cause, sessionsEnded, clouds, done: clouds.length - pending, pending };
  }
}

type PendingRecord = Parameters<PendingOffboards["record"]>[0][number];

/** The pending-set change for one outcome (absent outcome: the cloud is gone, so nothing waits). */
function recordOf(
  cloudId: string,
  person: Person,
  action: "offboard" | "restore",
  reason: string,
  outcome: CloudOutcome | undefined,
): PendingRecord {
  return {
    cloudId,
    identityId: person.id,
    ok: outcome?.state !== "pending",
    entry: { username: person.username, action, reason, lastError: outcome?.error ?? "" },
  };
}
