/**
 * The JSON documents `--json` prints, one per reporting command: the contract automation reads. Each is a zod
 * schema; `schema/reports/<name>.schema.json` is generated from them (kept in sync by a unit test) and
 * docs/cli-json.md describes them. Fields are only ever added; a field removed or changing meaning is a new
 * `format`.
 */
import { z } from "zod";
import { IdentitySchema } from "../identity/index.js";
import { ImageStatusSnapshotSchema } from "../images/index.js";
import { SavedPlanSchema } from "../sync/index.js";

const Problem = z
  .object({
    file: z.string(),
    line: z.number().int(),
    column: z.number().int(),
    path: z.string().describe("where in the document, e.g. clouds[2].authUrl; empty for the whole file"),
    message: z.string(),
  })
  .describe("a located problem, as the text output prints it: file:line:column: path: message");

/** `archway config check --json`. */
export const ConfigCheckReportSchema = z.object({
  file: z.string().describe("the config file checked"),
  ok: z.boolean().describe("true when the command exits 0"),
  problems: z.array(Problem),
  clouds: z.number().int().optional().describe("clouds configured, inventory included (absent when it did not load)"),
  identitySources: z.number().int().optional(),
  warning: z.string().optional().describe("demo mode allowed: the demo secrets and weak keys found"),
});

/** `archway policy check --json`. */
export const PolicyCheckReportSchema = z.object({
  policiesDir: z.string(),
  ok: z.boolean(),
  policies: z.array(z.string()).describe("names of the policies compiled"),
  problems: z.array(Problem),
});

const Grants = z.looseObject({
  projects: z.array(z.looseObject({})),
  assignments: z.array(z.looseObject({})),
  keys: z.array(z.looseObject({})),
  memberships: z.array(z.looseObject({})),
});

/** `archway policy explain --json`. */
export const PolicyExplainReportSchema = z.object({
  identity: z.object({ id: z.string(), username: z.string(), source: z.string(), groups: z.array(z.string()) }),
  policies: z.array(
    z.object({
      name: z.string(),
      effect: z.enum(["allow", "deny"]),
      origin: z.string().describe("file:line of the policy"),
      matched: z.boolean(),
      reason: z.string().optional().describe("the first condition that failed, when it did not match"),
      clouds: z.array(z.string()),
      requiresMfa: z.literal(true).optional(),
      forEachGroups: z
        .array(z.string())
        .optional()
        .describe("spec.forEach: the person's groups the glob matches, one grant set each"),
    }),
  ),
  access: z.record(z.string(), Grants).describe("per cloud id: what sync provisions (after denies)"),
  mfaOnly: z.record(z.string(), z.looseObject({})).describe("per cloud id: what a session without MFA does not get"),
});

/** `archway policy import-keystone --json`. */
export const PolicyImportReportSchema = z.object({
  yaml: z.string().describe("the policies, as YAML (empty when nothing could be converted)"),
  refused: z.array(z.string()).describe("rules that cannot be expressed, each with why"),
});

/** `archway identity lookup --json`: the identity as the source returns it. */
export const IdentityLookupReportSchema = IdentitySchema;

/** `archway identity unlock --json`. */
export const IdentityUnlockReportSchema = z.object({
  person: z.string(),
  subjects: z.array(z.string()).describe("the limit subjects cleared (usernames, pairs)"),
  cleared: z.number().int(),
  known: z.boolean().describe("false (exit 1) when no source knows the person and nothing was held"),
});

const Counts = z.object({
  create: z.number().int(),
  update: z.number().int(),
  revoke: z.number().int(),
  disable: z.number().int(),
  delete: z.number().int(),
});

const MaxDeletes = z
  .object({ perCloud: z.number().int(), total: z.number().int() })
  .describe("sync.maxDeletesPerRun: deletions (revoke, disable, delete) apply accepts");

/** `archway sync plan --json` (without `--out`). */
export const SyncPlanReportSchema = z.object({
  format: z.literal("archway-sync-plan-report/1"),
  clouds: z.array(
    z.looseObject({
      cloudId: z.string(),
      counts: Counts,
      destructive: z.number().int().describe("operations that take something away"),
      overDeleteLimit: z.boolean().describe("destructive > maxDeletesPerRun.perCloud: apply refuses this cloud"),
      operations: z.array(z.looseObject({ kind: z.string() })).describe("each with its kind, fields and policies"),
      problems: z.array(z.string()),
    }),
  ),
  unavailable: z.array(z.object({ cloudId: z.string(), reason: z.string() })),
  maxDeletesPerRun: MaxDeletes,
  overDeleteLimit: z
    .array(z.string())
    .describe("clouds over maxDeletesPerRun.perCloud (apply refuses them); empty when none"),
  overTotalDeleteLimit: z.boolean().describe("the clouds' deletions together exceed maxDeletesPerRun.total"),
  totals: Counts.extend({ destructive: z.number().int(), operations: z.number().int() }),
});

/** `archway sync plan --out FILE --json`: the saved plan, as written to FILE. */
export const SyncSavedPlanReportSchema = SavedPlanSchema;

const JobResult = z.object({
  jobId: z.string(),
  cloudId: z.string(),
  outcome: z.enum(["converged", "applied_with_failures", "refused", "failed", "planned"]),
  reason: z.string().optional(),
  counts: z.record(z.string(), z.number()).optional().describe("the cloud's plan: operations per action"),
  applied: z.number().int().optional(),
  failed: z.number().int().optional().describe("operations that failed"),
  attempts: z.number().int(),
});

/** `archway sync apply [FILE] --json`. */
export const SyncApplyReportSchema = z.object({
  runId: z.string(),
  planId: z.string().optional().describe("the saved plan applied (sync apply FILE)"),
  converged: z.number().int().describe("clouds that converged; the others are in results with the reason"),
  results: z.array(JobResult),
  summary: z.object({
    clouds: z.number().int(),
    converged: z.number().int(),
    refused: z.number().int(),
    failed: z.number().int().describe("clouds failed or applied with failures"),
    totals: Counts.extend({ failed: z.number().int().describe("operations that failed") }),
  }),
});

const CloudOutcome = z.object({
  cloudId: z.string(),
  state: z.enum(["done", "absent", "pending"]),
  users: z.number().int(),
  appCredentials: z.number().int(),
  error: z.string().optional(),
  ms: z.number(),
});

/** `archway offboard <person> [--undo] --json`. */
export const OffboardReportSchema = z.object({
  person: z.object({ id: z.string(), username: z.string() }),
  action: z.enum(["offboard", "restore"]),
  cause: z.string(),
  sessionsEnded: z.number().int(),
  clouds: z.array(CloudOutcome),
  done: z.number().int(),
  pending: z.number().int().describe("clouds queued for a retry (exit 1 when any)"),
});

/** `archway offboard --pending --json`: cloud id -> identity id -> what waits. */
export const OffboardPendingReportSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.object({
      username: z.string(),
      action: z.enum(["offboard", "restore"]),
      reason: z.string(),
      since: z.string(),
      attempts: z.number().int(),
      nextAt: z.number().describe("epoch milliseconds of the next attempt"),
      lastError: z.string(),
    }),
  ),
);

/** `archway login --status --json`. */
export const LoginStatusReportSchema = z.object({
  signedIn: z.boolean(),
  cloudsFile: z.string(),
  url: z.string().optional(),
  clientId: z.string().optional(),
  username: z.string().optional(),
  expiresAt: z.string().optional().describe("ISO 8601: when the access token in the entries expires"),
  secondsLeft: z.number().int().optional(),
  refreshToken: z.boolean().optional().describe("a refresh token is kept (the token can be renewed)"),
  entries: z.array(z.string()).describe("clouds.yaml entries archway login wrote"),
});

/** Every `--json` document, by the name of its file under schema/reports/ (and its section in docs/cli-json.md). */
export const REPORTS = {
  "config-check": ConfigCheckReportSchema,
  "policy-check": PolicyCheckReportSchema,
  "policy-explain": PolicyExplainReportSchema,
  "policy-import-keystone": PolicyImportReportSchema,
  "identity-lookup": IdentityLookupReportSchema,
  "identity-unlock": IdentityUnlockReportSchema,
  "sync-plan": SyncPlanReportSchema,
  "sync-plan-saved": SyncSavedPlanReportSchema,
  "sync-apply": SyncApplyReportSchema,
  offboard: OffboardReportSchema,
  "offboard-pending": OffboardPendingReportSchema,
  "login-status": LoginStatusReportSchema,
  // `archway images status --json`: the status snapshot itself, filtered (`null` before any distribution).
  "images-status": ImageStatusSnapshotSchema,
} as const;

/** Report types, derived from the schemas (what the commands build). */
export type SyncPlanReport = z.infer<typeof SyncPlanReportSchema>;
export type SyncApplyReport = z.infer<typeof SyncApplyReportSchema>;
export type LoginStatusReport = z.infer<typeof LoginStatusReportSchema>;
