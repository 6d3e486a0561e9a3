import { ArchwayError } from "../errors.js";
import type { Action, Step } from "./resource.js";
import { type Operation, stepOf } from "./resources/index.js";

export type { Action } from "./resource.js";
export type { Operation } from "./resources/index.js";
export type { UserChanges } from "./resources/user/index.js";

/** The step of `op`; an operation of a kind no resource registers is refused (never applied, counted or audited). */
export function requireStep(op: Operation): Step<Operation> {
  const step = stepOf(op);
  if (!step)
    throw new ArchwayError("sync_unknown_operation", `no sync resource handles operations of kind ${op.kind}`, 500);
  return step;
}

/** The verb of an operation. */
export function actionOf(op: Operation): Action {
  return requireStep(op).action(op);
}

/**
 * True for operations that take something away (revoke, disable, delete, key replacement): these count against
 * `maxDeletesPerRun`, because a wrong policy or an empty directory would otherwise strip a cloud in one run.
 */
export function isDestructive(op: Operation): boolean {
  const step = requireStep(op);
  const a = step.action(op);
  return a === "revoke" || a === "disable" || a === "delete" || step.destructive?.(op) === true;
}

/** One line a person can read: `create user alice`, `revoke member on Default/ops from bob`. */
export function describe(op: Operation): string {
  return requireStep(op).describe(op);
}
