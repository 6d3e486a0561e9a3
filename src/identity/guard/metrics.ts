import { Counter, type Registry } from "prom-client";
import type { AttemptKind, LimitScope } from "./attempts.js";

/** How a sign-in ended (a bounded label). */
export type LoginResult = "success" | "failure" | "refused" | "error";

/** How an unlock was asked for (a bounded label). */
export type UnlockVia = "cli" | "api" | "web";

/**
 * The guard's counters, created unregistered so the guard can be built before the HTTP metrics registry and
 * joined to it later ({@link GuardMetrics.register}). Labels are bounded: attempt kind, limit scope, unlock route.
 */
export class GuardMetrics {
  /** `archway_logins_total{source,result}`: every sign-in with a password or through an upstream SSO. */
  readonly logins = new Counter<"source" | "result">({
    name: "archway_logins_total",
    help: "Sign-ins by identity source and result (success, failure, refused by a limit, error: the source could not tell)",
    labelNames: ["source", "result"],
    registers: [],
  });
  /** `archway_login_lockouts_total{kind,scope}`: a pair became refused, or delays began for a user or address. */
  readonly lockouts = new Counter<"kind" | "scope">({
    name: "archway_login_lockouts_total",
    help: "Sign-in limits reached: a (username, address) pair refused, or delays begun for a username or address",
    labelNames: ["kind", "scope"],
    registers: [],
  });
  /** `archway_login_refused_total{kind,scope}`: attempts refused before the check ran. */
  readonly refused = new Counter<"kind" | "scope">({
    name: "archway_login_refused_total",
    help: "Sign-in attempts refused by a limit before the credentials were checked",
    labelNames: ["kind", "scope"],
    registers: [],
  });
  /** `archway_login_unlocks_total{via}`: administrator unlocks. */
  readonly unlocks = new Counter<"via">({
    name: "archway_login_unlocks_total",
    help: "Sign-in limits cleared by an administrator",
    labelNames: ["via"],
    registers: [],
  });

  /** Adds the counters to `registry` (the one `/metrics` renders). */
  register(registry: Registry): void {
    registry.registerMetric(this.logins);
    registry.registerMetric(this.lockouts);
    registry.registerMetric(this.refused);
    registry.registerMetric(this.unlocks);
  }

  /** Counts a sign-in; `sourceId` is a configured source's id (or `passkey`), never what a client sent. */
  countLogin(sourceId: string, result: LoginResult): void {
    this.logins.inc({ source: sourceId, result });
  }

  countLockout(kind: AttemptKind, scope: LimitScope): void {
    this.lockouts.inc({ kind, scope });
  }

  countRefusal(kind: AttemptKind, scope: LimitScope): void {
    this.refused.inc({ kind, scope });
  }

  countUnlock(via: UnlockVia): void {
    this.unlocks.inc({ via });
  }
}
