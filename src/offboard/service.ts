import type { Audit } from "../audit/index.js";
import type { Config } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import {
  type IdentitySource,
  isAccountListSource,
  isAccountWatchSource,
  isLookupSource,
  isUpstreamGrantSource,
  type OffboardedEntry,
} from "../identity/index.js";
import { type CloudClients, mapLimit } from "../openstack/index.js";
import type { Store } from "../store/index.js";
import { ownershipOf } from "../sync/index.js";
import type { Person } from "./cloud.js";
import { type AccountChange, DepartureDetector, knownAccount } from "./detect.js";
import { type CloudOutcome, Offboarder, type OffboardReport, type PersonSessions } from "./offboarder.js";
import type { GrantCheck, GrantRefusal, UpstreamGrants } from "./upstream-grants.js";
import { DepartureWatch } from "./watch.js";

/** What one detection tick did. */
export interface TickResult {
  changes: AccountChange[];
  reports: OffboardReport[];
  retried: CloudOutcome[];
  /** The renewal of upstream SSO grants (absent without kept grants). */
  grants?: GrantCheck;
}

/** What the detection tick needs to renew upstream grants and act on refusals. */
export interface UpstreamCheck {
  grants: UpstreamGrants;
  sessions: PersonSessions;
  /** Forgets the broker's cached Keystone tokens of a person (a worker has no session-end hook doing it). */
  purgeBrokerCache: (personId: string) => Promise<void>;
  audit: Audit;
  onError?: (sourceId: string, message: string) => void;
}

/**
 * The periodic side of offboarding (run by `archway worker`, or by `serve` on the embedded store): look for
 * departures and disables, offboard those people at once, restore people the directory enabled again (when the
 * directory was why they were offboarded), and retry clouds that were down. Also resolves a person named on the
 * command line or the admin page.
 */
export class OffboardService {
  constructor(
    readonly offboarder: Offboarder,
    private readonly detector: DepartureDetector,
    private readonly sources: readonly IdentitySource[],
    private readonly store: Store,
    private readonly watchDeps: { audit: Audit; maxDepartures: number; windowMs: number },
    private readonly upstream?: UpstreamCheck,
  ) {}

  /** One detection tick (see the class). */
  async tick(): Promise<TickResult> {
    const { changes, commit } = await this.detector.look();
    const reports = await this.apply(changes);
    await commit();
    const grants = await this.#checkGrants(reports);
    const retried = await this.offboarder.retryPending();
    return { changes, reports, retried, ...(grants ? { grants } : {}) };
  }

  /**
   * Acts on changes a look or a watch found: offboards who left or was disabled (unless already offboarded: then
   * only the cause moves on), restores who the directory enabled again after it had disabled them. Acting twice
   * on one change does nothing more, so a watch and a look may both report it.
   */
  async apply(changes: readonly AccountChange[], opts: { via?: string } = {}): Promise<OffboardReport[]> {
    const via = opts.via ? ` (${opts.via})` : "";
    const offboarded = await this.offboarder.offboarded.all();
    return (
      await mapLimit([...changes], 8, async (change): Promise<OffboardReport | undefined> => {
        const entry = offboarded.get(change.person.id);
        if (change.kind === "enabled")
          return entry?.cause === "disabled"
            ? this.offboarder.restore(change.person, {
                reason: `enabled again in the directory${via}`,
                actor: "directory",
              })
            : undefined;
        const cause: OffboardedEntry["cause"] = change.kind;
        if (entry) {
          // Already cut off everywhere (the kill switch, or an earlier look): only the cause moves on.
          if (entry.cause !== cause) await this.offboarder.offboarded.add(change.person.id, { ...entry, cause });
          return undefined;
        }
        const reason = `${change.kind === "departed" ? "gone from" : "disabled in"} ${change.sourceId}${via}`;
        return this.offboarder.offboard(change.person, { cause, reason, actor: "directory" });
      })
    ).filter((r): r is OffboardReport => r !== undefined);
  }

  /**
   * Renews every live SSO session's upstream grant. A refusal (`invalid_grant`) ends the person's login sessions
   * (`refreshFailure: end-sessions`) or offboards them (`offboard`); a grant that could not be checked changes
   * nothing. Each person is acted on once per tick, however many of their grants were refused.
   */
  async #checkGrants(reports: OffboardReport[]): Promise<GrantCheck | undefined> {
    const up = this.upstream;
    if (!up) return undefined;
    const check = await up.grants.check(this.sources.filter(isUpstreamGrantSource), { onError: up.onError });
    const people = new Map<string, GrantRefusal>();
    for (const r of check.refused) people.set(r.personId, r);
    const offboarded = await this.offboarder.offboarded.all();
    for (const r of people.values()) {
      const action = r.source.refreshFailure;
      const reason = `${r.source.id} refused to renew the grant`;
      await up.audit({ type: "upstream.grant.refused", source: r.source.id, identity: r.personId, action });
      if (action === "offboard") {
        if (offboarded.has(r.personId)) continue;
        reports.push(
          await this.offboarder.offboard(
            { id: r.personId, username: r.username },
            { cause: "upstream", reason, actor: "upstream" },
          ),
        );
      } else {
        await up.sessions.endPerson(r.personId, reason, { kind: "login" });
        await up.purgeBrokerCache(r.personId);
      }
    }
    return check;
  }

  /**
   * Starts watching every source that can (LDAP content synchronisation): what a watch sees is acted on at once
   * through {@link OffboardService.apply}. One process per source watches (a lease in the store). Stop it with
   * the returned function.
   */
  watch(log: {
    info: (sourceId: string, message: string) => void;
    error: (sourceId: string, message: string) => void;
  }): { stop(): Promise<void> } {
    const watch = new DepartureWatch({
      ...this.watchDeps,
      sources: this.sources.filter(isAccountWatchSource),
      store: this.store,
      apply: (change) => this.apply([change], { via: "syncrepl" }),
      log,
    });
    watch.start();
    return watch;
  }

  /**
   * The person `ref` names: an identity id (`<source>:<id>`) or `username@source`, looked up in the source, else
   * in the stored listings (people who already left), else among the people offboarded.
   */
  async resolve(ref: string): Promise<Person> {
    const at = ref.lastIndexOf("@");
    const byName = at > 0 ? { username: ref.slice(0, at), sourceId: ref.slice(at + 1) } : undefined;
    const offboarded = await this.offboarder.offboarded.all();
    if (!byName) {
      const sourceId = ref.slice(0, ref.indexOf(":"));
      if (!this.sources.some((s) => s.id === sourceId))
        throw new ArchwayError("person_unknown", `'${ref}' is neither username@source nor <source>:<id>`, 404);
      const known =
        offboarded.get(ref)?.username ?? (await knownAccount(this.store, [sourceId], (id) => id === ref))?.username;
      return { id: ref, username: known ?? "" };
    }
    const source = this.sources.find((s) => s.id === byName.sourceId);
    if (!source) throw new ArchwayError("person_unknown", `no identity source '${byName.sourceId}'`, 404);
    const found = isLookupSource(source) ? await source.lookup(byName.username) : null;
    if (found) return { id: found.id, username: found.username };
    const listed = await knownAccount(this.store, [source.id], (_id, username) => username === byName.username);
    if (listed) return { id: listed.id, username: listed.username };
    const off = [...offboarded].find(([id, e]) => id.startsWith(`${source.id}:`) && e.username === byName.username);
    if (off) return { id: off[0], username: off[1].username };
    throw new ArchwayError(
      "person_unknown",
      `${byName.username} is not in ${source.id} (nor in its last listing): name them by id, <source>:<id>`,
      404,
    );
  }
}

/** What {@link createOffboard} needs from the runtime and the gateway or worker. */
export interface OffboardBuildDeps {
  config: Config;
  store: Store;
  audit: Audit;
  sources: readonly IdentitySource[];
  clients: (cloud: Config["clouds"][number]) => CloudClients;
  sessions: PersonSessions;
  purgeBrokerCache: (personId: string) => Promise<void>;
  onError?: (sourceId: string, message: string) => void;
  now?: () => Date;
  /** Kept upstream SSO grants, renewed at each tick (absent: no grant checks). */
  upstreamGrants?: UpstreamGrants;
}

/** Builds the offboarder, the detector over every source that can list its accounts, and the service. */
export function createOffboard(deps: OffboardBuildDeps): OffboardService {
  const { config } = deps;
  const offboarder = new Offboarder({
    clouds: config.clouds,
    clients: deps.clients,
    store: deps.store,
    audit: deps.audit,
    sessions: deps.sessions,
    purgeBrokerCache: deps.purgeBrokerCache,
    ownership: ownershipOf(config),
    concurrency: Math.max(config.sync.concurrency, 64),
    retryMs: config.offboard.retrySeconds * 1000,
    now: deps.now,
  });
  const detector = new DepartureDetector({
    sources: deps.sources.filter(isAccountListSource),
    store: deps.store,
    audit: deps.audit,
    maxDepartures: config.offboard.maxDeparturesPerRun,
    onError: deps.onError,
    now: deps.now,
  });
  const upstream = deps.upstreamGrants
    ? {
        grants: deps.upstreamGrants,
        sessions: deps.sessions,
        purgeBrokerCache: deps.purgeBrokerCache,
        audit: deps.audit,
        onError: deps.onError,
      }
    : undefined;
  return new OffboardService(
    offboarder,
    detector,
    deps.sources,
    deps.store,
    {
      audit: deps.audit,
      maxDepartures: config.offboard.maxDeparturesPerRun,
      // The same guard as a look's, over the time one look covers (at least a minute).
      windowMs: Math.max(config.offboard.detectSeconds, 60) * 1000,
    },
    upstream,
  );
}
