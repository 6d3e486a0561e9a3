import { z } from "zod";

/**
 * The kinds of second factor. Each kind is one file of this folder implementing {@link FactorKind}; a new kind
 * (WebAuthn passkeys) adds its name here and its file, and the store and pages take it as they are.
 */
export const FACTOR_KINDS = ["totp", "recovery", "webauthn"] as const;
/** One kind of second factor. */
export type FactorKindName = (typeof FACTOR_KINDS)[number];

/**
 * One factor of one person as the store keeps it (inside the person's sealed record). `secret` is the kind's own
 * data (a TOTP key, hashed recovery codes), never shown after enrolment; `state` is what changes on use (the last
 * accepted TOTP step, the recovery codes left).
 */
export const FactorRecordSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(FACTOR_KINDS),
  /** What the person called it ("phone"), shown on their page and the admin's. */
  label: z.string().max(100),
  createdAt: z.number(),
  lastUsedAt: z.number().optional(),
  secret: z.string(),
  state: z.record(z.string(), z.unknown()).default({}),
});
/** A stored factor. */
export type FactorRecord = z.infer<typeof FactorRecordSchema>;

/** A factor as pages and the API show it: no secret, no state. */
export interface FactorView {
  id: string;
  kind: FactorKindName;
  label: string;
  createdAt: number;
  lastUsedAt?: number;
  /** Recovery codes: how many are left. */
  remaining?: number;
}

/** What a check of a code against one factor came to: the new state to keep, or no match. */
export type FactorCheck = { matched: true; state: Record<string, unknown> } | { matched: false };

/**
 * One kind of second factor, pure: given the stored record and what the person typed, does it match and what must
 * the store remember so that the same code is never accepted twice. The store does the rest (sealing, locking).
 * A kind that answers challenges instead of typed codes (WebAuthn) never matches a code: its own ceremony checks it.
 */
export interface FactorKind {
  readonly kind: FactorKindName;
  /** Whether this kind alone lets a person in (a recovery code is a fallback, not a factor one keeps). */
  readonly primary: boolean;
  check(record: FactorRecord, code: string, now: number): FactorCheck;
  /** The view's extra fields. */
  describe(record: FactorRecord): Partial<FactorView>;
}

/** The view of a record. */
export function viewOf(record: FactorRecord, kind: FactorKind): FactorView {
  return {
    id: record.id,
    kind: record.kind,
    label: record.label,
    createdAt: record.createdAt,
    ...(record.lastUsedAt !== undefined ? { lastUsedAt: record.lastUsedAt } : {}),
    ...kind.describe(record),
  };
}
