/**
 * Sign-in limits: attempts counted atomically before a secret is checked, per (username, address) pair (hard,
 * refuses only that pair), per username and per address (growing delays, never a wall), usernames folded as the
 * directory folds them and linked to the person's stable id, administrator unlock, audit and metrics.
 */

export { addressKey } from "./address.js";
export {
  ATTEMPT_KINDS,
  AttemptGuard,
  type AttemptKind,
  type AttemptOutcome,
  type AttemptRequest,
  type Crossing,
  delaySeconds,
  type LimitScope,
  LOCKOUT_STREAM,
  type LockoutRecord,
} from "./attempts.js";
export { foldUsername } from "./fold.js";
export { LoginGuard, retryAfterOf, TooManyAttempts, type UnlockResult } from "./login-guard.js";
export { GuardMetrics, type UnlockVia } from "./metrics.js";
