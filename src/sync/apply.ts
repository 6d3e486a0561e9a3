import type { AuditEvent } from "../audit/index.js";
import { type CloudClients, mapLimit } from "../openstack/index.js";
import type { ObservedCloud } from "./observe.js";
import { describe, type Operation, requireStep } from "./operations.js";
import type { Ownership } from "./ownership.js";
import type { CloudPlan } from "./plan.js";
import { type ApplyContext, PHASES, type Phase, type Step } from "./resource.js";
import type { ImageServices } from "./resources/image/services.js";

/** What apply needs besides the clients. */
export interface ApplyDeps {
  clients: CloudClients;
  /** Key of the derived shadow passwords (never logged). */
  passwordSecret: string;
  keyVersion: number;
  /** Whose marks to write; a create that meets an existing object adopts it only when it carries them. */
  ownership: Ownership;
  now: () => Date;
  audit: (event: AuditEvent) => Promise<void> | void;
  /** Hears of each operation applied (`ok`) or failed, by its kind (the metrics). */
  onOperation?: (kind: Operation["kind"], ok: boolean) => void;
  /** Called after each operation (progress bars). */
  onProgress?: (done: number, total: number) => void;
  runId?: string;
  /** The process's image distribution (image transfers share waves across clouds). */
  images?: ImageServices;
}

/** An operation that failed, and why. */
export interface FailedOperation {
  operation: Operation;
  code: string;
  message: string;
}

/** What one cloud's apply did. */
export interface ApplyResult {
  cloudId: string;
  applied: number;
  failed: FailedOperation[];
}

/**
 * Applies a plan to one cloud, phase by phase (each operation's phase comes from its resource; operations within a
 * phase run in parallel). Every step is safe to repeat: grants are PUTs, a 409 on create re-reads and adopts
 * Archway's own object, a 404 on delete counts as done. So a run killed half-way converges on rerun, without
 * duplicates. Each applied operation becomes an audit event `sync.applied`; an operation no resource handles fails
 * and is neither counted nor audited as applied.
 */
export async function applyPlan(plan: CloudPlan, observed: ObservedCloud, deps: ApplyDeps): Promise<ApplyResult> {
  const ctx = applyContext(observed, deps);
  const result: ApplyResult = { cloudId: plan.cloudId, applied: 0, failed: [] };
  const total = plan.operations.length;
  let done = 0;
  const fail = (operation: Operation, err: unknown) => {
    const e = err as { code?: string; message?: string };
    result.failed.push({ operation, code: e.code ?? "sync_failed", message: e.message ?? String(err) });
  };
  const byPhase = new Map<Phase, { op: Operation; step: Step<Operation> }[]>(PHASES.map((p) => [p, []]));
  for (const op of plan.operations) {
    try {
      const step = requireStep(op);
      byPhase.get(step.phase)?.push({ op, step });
    } catch (err) {
      fail(op, err);
      deps.onProgress?.(++done, total);
    }
  }
  for (const phase of PHASES) {
    await mapLimit(byPhase.get(phase) ?? [], deps.clients.limiter.max, async ({ op, step }) => {
      try {
        await step.apply(ctx, op);
        result.applied++;
        deps.onOperation?.(op.kind, true);
        await deps.audit({
          type: "sync.applied",
          cloud: plan.cloudId,
          actor: "identityId" in op ? op.identityId : undefined,
          operation: op.kind,
          summary: describe(op),
          policies: op.policies,
          runId: deps.runId,
        });
      } catch (err) {
        deps.onOperation?.(op.kind, false);
        fail(op, err);
      }
      deps.onProgress?.(++done, total);
    });
  }
  return result;
}

function applyContext(observed: ObservedCloud, deps: ApplyDeps): ApplyContext {
  const memos = new Map<unknown, unknown>();
  const ctx: ApplyContext = {
    cloud: deps.clients.cloud,
    clients: deps.clients,
    passwordSecret: deps.passwordSecret,
    keyVersion: deps.keyVersion,
    ownership: deps.ownership,
    now: deps.now,
    ...(deps.images ? { images: deps.images } : {}),
    observed: (resource) => observed.of(resource),
    memo<T>(init: (c: ApplyContext) => T): T {
      if (!memos.has(init)) memos.set(init, init(ctx));
      return memos.get(init) as T;
    },
  };
  return ctx;
}
