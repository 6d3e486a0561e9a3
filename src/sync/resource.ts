import type { Cloud } from "../config/index.js";
import type { CloudClients, RoleAssignment } from "../openstack/index.js";
import type { DesiredCloudState } from "../policy/index.js";
import type { Ownership } from "./ownership.js";
import type { FederationDesired } from "./resources/federation/desired.js";
import type { ImageServices } from "./resources/image/services.js";

/**
 * What every synced resource is: a module with its operation types, its observe step (read what Archway owns), its
 * plan step (pure: desired + observed -> operations) and, per operation kind, its apply step and phase. Modules are
 * listed once in `resources/index.ts`; the operation union, the apply dispatch and the phase order all come from
 * that list.
 */

/** The verbs a person reads in `archway sync plan`. */
export type Action = "create" | "update" | "revoke" | "disable" | "delete";

/**
 * Apply phases, in order: later phases depend on objects earlier ones create; operations within one phase run in
 * parallel. Each operation kind names its phase in its module.
 */
export const PHASES = ["domain", "objects", "links", "unlinks", "disable", "delete"] as const;
/** One of {@link PHASES}. */
export type Phase = (typeof PHASES)[number];

/** What every operation carries: its kind, and the policies that caused it (empty for removals). */
export interface OperationBase {
  kind: string;
  policies: string[];
}

/** What one cloud should hold: the policy engine's desired state, and the federation objects of a federated cloud. */
export interface SyncInput {
  cloud: Cloud;
  desired: DesiredCloudState;
  /** Present for federated clouds only (then `desired` has no users, memberships or keys). */
  federation?: FederationDesired;
  /** Whose marks to write and honour (config `deploymentId`, `sync.adoptUnmarked`). */
  ownership: Ownership;
}

/** What to read: everything (full sync), or only what concerns a few people (just-in-time sync). */
export interface ObserveOptions {
  /** Identity ids to restrict to; absent means the whole cloud. */
  people?: ReadonlySet<string>;
  /** Read every owned user's keypairs from Nova, not only those whose record differs (catches hand edits). */
  deepKeys?: boolean;
}

/** Knobs of planning. */
export interface PlanOptions {
  keyVersion: number;
  /** How long a user stays disabled before it is deleted. */
  graceMs: number;
  now: Date;
  /** Restrict to these people (just-in-time sync): nobody else is disabled, revoked or touched. */
  people?: ReadonlySet<string>;
}

/** Something that observes one slice of a cloud; resources read each other's slices through it. */
export interface SliceSource<Slice> {
  readonly name: string;
  /** Reads what this resource needs from the cloud (only what Archway owns or must reference). */
  observe(ctx: ObserveContext): Promise<Slice>;
}

/** List calls several resources need, made once per observation. */
export interface SharedReads {
  /** Every domain, name -> id. */
  domains(): Promise<Map<string, string>>;
  /** Every role, name -> id. */
  roles(): Promise<Map<string, string>>;
  /** Every role assignment of the cloud (one call; full runs only). */
  roleAssignments(): Promise<RoleAssignment[]>;
}

/** What an observe step gets. */
export interface ObserveContext {
  readonly clients: CloudClients;
  readonly input: SyncInput;
  readonly opts: ObserveOptions;
  readonly reads: SharedReads;
  /** Another resource's slice (observed once; every resource's observe starts at once, so reads overlap). */
  slice<S>(resource: SliceSource<S>): Promise<S>;
  /** The process's image distribution (source versions, status grid); absent where nothing set it up. */
  readonly images?: ImageServices;
}

/** What a plan step gets: plain data, no I/O. */
export interface PlanContext {
  readonly input: SyncInput;
  readonly opts: PlanOptions;
  /** What a resource observed. */
  observed<S>(resource: SliceSource<S>): S;
  /** True when `identityId` is in the run's scope (always, outside just-in-time runs). */
  inScope(identityId: string): boolean;
  /** `derive(ctx)`, computed once per plan (keyed by the function: pass a named one): facts resources share. */
  memo<T>(derive: (ctx: PlanContext) => T): T;
}

/** What an apply step gets besides its operation. */
export interface ApplyContext {
  readonly cloud: Cloud;
  readonly clients: CloudClients;
  /** Key of the derived shadow passwords (never logged). */
  readonly passwordSecret: string;
  readonly keyVersion: number;
  /** Whose marks to write; a create that meets an existing object adopts it only when it carries them. */
  readonly ownership: Ownership;
  readonly now: () => Date;
  observed<S>(resource: SliceSource<S>): S;
  /** The process's image distribution (transfer waves shared across clouds, status grid). */
  readonly images?: ImageServices;
  /** State kept for one apply run, made once by `init` (keyed by the function: pass a named one). */
  memo<T>(init: (ctx: ApplyContext) => T): T;
}

/** One operation kind: its phase, how a person reads it, and how it is applied. */
export interface Step<Op> {
  readonly phase: Phase;
  action(op: Op): Action;
  describe(op: Op): string;
  /** Takes something away although its action does not say so (a keypair replaced); counts against the limit. */
  destructive?(op: Op): boolean;
  /** Safe to repeat: a create adopts Archway's own object on 409, a delete counts 404 as done. */
  apply(ctx: ApplyContext, op: Op): Promise<void>;
}

/** One step per operation kind of `Op`: a kind without its step does not compile. */
export type Steps<Op extends OperationBase> = { [K in Op["kind"]]: Step<Extract<Op, { kind: K }>> };

/** What a plan step found: operations in plan order, and what it cannot do (and why). */
export interface Planned<Op> {
  operations: Op[];
  problems?: string[];
}

/** A synced resource: see the top of this file. */
export interface SyncResource<Op extends OperationBase, Slice> extends SliceSource<Slice> {
  /** Pure: desired (ctx.input) + observed -> operations. Only owned objects are ever changed or removed. */
  plan(ctx: PlanContext): Planned<Op>;
  readonly steps: Steps<Op>;
}

/** The operations of a resource (from what its planner returns). */
export type OperationOf<R extends { plan(ctx: PlanContext): Planned<OperationBase> }> = ReturnType<
  R["plan"]
>["operations"][number];
