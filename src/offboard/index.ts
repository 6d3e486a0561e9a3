/**
 * Offboarding: departures and disables found within a bound (each source's account listing diffed against the
 * last one, and within seconds where a source can watch: LDAP content synchronisation), and the one path that cuts a person off everywhere, in order: Archway's sessions, tokens and grants,
 * the broker's cached tokens, then every cloud in parallel (users disabled, application credentials deleted),
 * with clouds that are down queued and retried. The kill switch (`archway offboard`, the admin page) calls the
 * same {@link Offboarder}.
 */
export { type CloudChange, offboardInCloud, type Person, restoreInCloud } from "./cloud.js";
export { type AccountChange, DepartureDetector, knownAccount, snapshotKey } from "./detect.js";
export {
  type CloudOutcome,
  Offboarder,
  type OffboarderDeps,
  type OffboardReport,
  type PersonSessions,
} from "./offboarder.js";
export { type PendingEntry, type PendingMap, PendingOffboards } from "./pending.js";
export {
  createOffboard,
  type OffboardBuildDeps,
  OffboardService,
  type TickResult,
  type UpstreamCheck,
} from "./service.js";
export { type GrantCheck, type GrantRefusal, type UpstreamGrantRecord, UpstreamGrants } from "./upstream-grants.js";
export { DepartureWatch, type DepartureWatchDeps } from "./watch.js";
