/**
 * Sync: desired state (from the policy engine) vs observed state (only what Archway owns, read with few list
 * calls) -> a typed plan -> apply, per cloud, over the registry of synced resources (`resources/index.ts`), with
 * ownership marks, bounded deletions, per-cloud status and metrics, and queues (BullMQ on Redis, in-process
 * otherwise) that keep one down cloud from blocking others.
 */
export { type ApplyDeps, type ApplyResult, applyPlan, type FailedOperation } from "./apply.js";
export { createSync, passwordSecret, type SyncBuildDeps, type SyncParts } from "./build.js";
export {
  type BullConnection,
  BullSyncQueue,
  bullConnection,
  queuePrefix,
  SYNC_QUEUE,
} from "./bullmq.js";
export { type SyncWorker, type SyncWorkerOptions, startSyncWorker } from "./bullmq-worker.js";
export { type CloudRunOptions, type CloudRunResult, emptyDesired, SyncEngine, type SyncEngineDeps } from "./engine.js";
export {
  HISTORY_DAYS,
  HISTORY_SERIES,
  type HistoryBucket,
  type HistorySeries,
  readHistory,
  recordCloudRun,
} from "./history.js";
export { ObservedCloud, observeCloud } from "./observe.js";
export { type Action, actionOf, describe, isDestructive, type Operation, type UserChanges } from "./operations.js";
export {
  classifyMark,
  DEMO_DEPLOYMENT_ID,
  DEPLOYMENT_ATTR,
  DEPLOYMENT_TAG_PREFIX,
  DISABLED_AT_ATTR,
  deploymentTag,
  extraMark,
  extraMarks,
  IDENTITY_ATTR,
  KEY_VERSION_ATTR,
  KEYS_ATTR,
  keypairNames,
  type Mark,
  type OwnedUser,
  type Ownership,
  ownedUser,
  ownershipOf,
  type ParsedKey,
  PROJECT_TAG,
  parsePublicKey,
  projectMark,
  projectMarks,
  SHADOW_USER_OPTIONS,
  shadowPassword,
  USER_MARK,
  whose,
} from "./ownership.js";
export { type CloudPlan, planCloud } from "./plan.js";
export { type ProjectRef, projectLabel } from "./project-ref.js";
export {
  InProcessQueue,
  type JobHandler,
  type JobResult,
  jobId,
  type QueueRetry,
  type SyncJob,
  type SyncQueue,
} from "./queue.js";
export type {
  ApplyContext,
  ObserveContext,
  ObserveOptions,
  Phase,
  PlanContext,
  Planned,
  PlanOptions,
  Step,
  Steps,
  SyncInput,
  SyncResource,
} from "./resource.js";
export { IDP_MARK, idpMark, idpOwner } from "./resources/federation/index.js";
export { OPERATION_KINDS, RESOURCES } from "./resources/index.js";
export {
  fromUnifiedNames,
  QUOTA_TAG_PREFIX,
  quotaMarks,
  quotaTag,
  SERVICE_TYPES,
  UNIFIED_LIMIT_NAMES,
  usesUnifiedLimits,
} from "./resources/quota/index.js";
export {
  acquireRunLocks,
  describeHolder,
  type HeldRun,
  RUN_LOCKED,
  type RunHolder,
  type RunLockOptions,
} from "./run-lock.js";
export {
  canonicalDigest,
  type PlanExpectation,
  planMismatch,
  type SavedPlan,
  SavedPlanSchema,
  savedTotals,
} from "./saved-plan.js";
export { engineHandler, SyncService, type SyncServiceDeps } from "./service.js";
export { type CloudSyncStatus, readStatus, registerSyncMetrics, writeStatus } from "./status.js";
