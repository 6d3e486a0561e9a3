import { toString as qrToString } from "qrcode";
import type { Audit } from "../../audit/index.js";
import { ArchwayError } from "../../errors.js";
import type { Store } from "../../store/index.js";
import { type AttemptGuard, TooManyAttempts } from "../guard/index.js";
import type { Identity } from "../identity.js";
import type { FactorRecord, FactorView } from "./factor.js";
import { viewOf } from "./factor.js";
import { FactorStore, newId, type RecordSealer } from "./factors-store.js";
import { KINDS } from "./kinds.js";
import { type MfaMode, type SecondStep, secondStep } from "./mode.js";
import { PendingSignIns } from "./pending.js";
import { hashRecoveryCode, newRecoveryCodes } from "./recovery.js";
import { newTotpSecret, otpauthUri, totpKind } from "./totp.js";
import { passkeyOwnerKey } from "./webauthn/credentials.js";
import { credentialIdOf } from "./webauthn/factor-lists.js";

/** How long an enrolment waits for its confirmation code. */
const ENROL_TTL_MS = 10 * 60_000;

/** A TOTP enrolment waiting for its confirmation code: what the page shows. */
export interface TotpEnrolment {
  id: string;
  secret: string;
  /** `otpauth://totp/...`, what the QR code holds. */
  uri: string;
  /** The QR code as SVG markup (paths only; inline, so the page's CSP needs no `data:` images). */
  qrSvg: string;
}

/** Which second factor a code matched: RFC 8176's `otp` for both a TOTP and a recovery code (see docs/mfa.md). */
export interface VerifiedFactor {
  kind: "totp" | "recovery";
  amr: string[];
}

/**
 * Second factors: per-source modes, each person's factors (sealed in the store), TOTP enrolment, checks of codes
 * counted by the sign-in guard as their own attempt kind (5 wrong codes lock the (person, address) pair), recovery
 * codes, and the first steps waiting for a second ({@link pending}).
 */
export class MfaService {
  readonly #store: Store;
  readonly #sealer: RecordSealer;
  readonly #factors: FactorStore;
  /** Each person's factors, passkeys included (the web's `FactorPasskeyLists` works on this one store). */
  get factors(): FactorStore {
    return this.#factors;
  }
  readonly #attempts: AttemptGuard;
  readonly #audit: Audit;
  readonly #modes: ReadonlyMap<string, MfaMode>;
  readonly #issuer: string;
  readonly #now: () => number;
  /** First steps waiting for their second (web forms, facade receipts). */
  readonly pending: PendingSignIns;

  constructor(opts: {
    store: Store;
    sealer: RecordSealer;
    attempts: AttemptGuard;
    audit: Audit;
    /** `identity.sources[].mfa` by source id (absent: off). */
    modes: ReadonlyMap<string, MfaMode>;
    /** Shown in authenticator apps beside the account name. */
    issuer: string;
    now?: () => number;
  }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#factors = new FactorStore({ store: opts.store, sealer: opts.sealer });
    this.#attempts = opts.attempts;
    this.#audit = opts.audit;
    this.#modes = opts.modes;
    this.#issuer = opts.issuer;
    this.#now = opts.now ?? Date.now;
    this.pending = new PendingSignIns({ store: opts.store, sealer: opts.sealer, now: this.#now });
  }

  /** The mode of a source (`off` when not configured). */
  mode(sourceId: string): MfaMode {
    return this.#modes.get(sourceId) ?? "off";
  }

  /** What this person's sign-in must do after the first factor (see {@link secondStep}). */
  async secondStep(identity: Identity): Promise<SecondStep> {
    const mode = this.mode(identity.source);
    if (mode === "off") return "none";
    return secondStep(mode, await this.#factors.list(identity.id));
  }

  /** The person's factors, without secrets. */
  async list(personId: string): Promise<FactorView[]> {
    return (await this.#factors.list(personId)).map((r) => viewOf(r, KINDS[r.kind]));
  }

  /** Starts a TOTP enrolment: a fresh key, its URI and QR code. Nothing is active until {@link confirmTotp}. */
  async beginTotp(identity: Identity, label: string): Promise<TotpEnrolment> {
    const id = newId();
    const secret = newTotpSecret();
    const uri = otpauthUri({ secret, issuer: this.#issuer, account: identity.username });
    const key = enrolKey(identity.id, id);
    await this.#store.set(key, this.#sealer.seal(JSON.stringify({ secret, label }), key), { ttlMs: ENROL_TTL_MS });
    const qrSvg = await qrToString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
    return { id, secret, uri, qrSvg };
  }

  /**
   * Activates an enrolment when `code` is its key's current code (accepted once, like any other). The person's
   * first factor comes with 10 recovery codes, returned here and never again. Throws `mfa_failed` (400) on a wrong
   * code or an enrolment that expired.
   */
  async confirmTotp(
    identity: Identity,
    enrolmentId: string,
    code: string,
  ): Promise<{ factor: FactorView; recoveryCodes?: string[] }> {
    const key = enrolKey(identity.id, enrolmentId);
    const value = /^[A-Za-z0-9_-]{10,64}$/.test(enrolmentId) ? await this.#store.get(key) : null;
    if (value === null) throw new ArchwayError("mfa_failed", "this enrolment expired; start again", 400);
    const { secret, label } = JSON.parse(this.#sealer.open(value, key).plaintext) as { secret: string; label: string };
    const now = this.#now();
    const record: FactorRecord = { id: newId(), kind: "totp", label, createdAt: now, secret, state: {} };
    const check = totpKind.check(record, code, now);
    if (!check.matched) throw new ArchwayError("mfa_failed", "that code did not match; check the app and retry", 400);
    await this.#store.delete(key);
    const recoveryCodes = newRecoveryCodes();
    const first = await this.#factors.update(identity.id, (factors) => {
      const isFirst = !factors.some((f) => KINDS[f.kind].primary);
      const added: FactorRecord = { ...record, state: check.state, lastUsedAt: now };
      const recovery = isFirst ? [recoveryRecord(recoveryCodes, now)] : [];
      return {
        factors: [...factors.filter((f) => !(isFirst && f.kind === "recovery")), added, ...recovery],
        result: isFirst,
      };
    });
    await this.#audit({ type: "mfa.enrolled", actor: identity.id, kind: "totp", label });
    const factor = (await this.list(identity.id)).find((f) => f.id === record.id) as FactorView;
    return first ? { factor, recoveryCodes } : { factor };
  }

  /**
   * Checks a second-factor code (TOTP or recovery) of `identity` from `address`, counted by the sign-in guard as an
   * `otp` attempt of the pair (person, address): a success is used up (its step, or the recovery code, is
   * remembered under the person's lock). Throws `mfa_failed` (401) on a wrong or replayed code and
   * {@link TooManyAttempts} (429) once the pair is locked.
   */
  async verify(identity: Identity, code: string, address: string): Promise<VerifiedFactor> {
    const base = { actor: identity.id, source: identity.source, clientIp: address };
    const outcome = await this.#attempts.attempt({ kind: "otp", subjects: [`person:${identity.id}`], address }, () =>
      this.#use(identity.id, code),
    );
    switch (outcome.kind) {
      case "refused":
        await this.#audit({ type: "mfa.refused", ...base, scope: outcome.scope });
        throw new TooManyAttempts(outcome.retryAfterSeconds);
      case "failed":
        for (const crossed of outcome.crossed) await this.#audit({ type: "mfa.locked", ...base, ...crossed });
        await this.#audit({ type: "mfa.failure", ...base });
        throw new ArchwayError("mfa_failed", "that code did not match, or was used already", 401);
      case "passed":
        await this.#audit({ type: "mfa.success", ...base, kind: outcome.value });
        return { kind: outcome.value, amr: ["pwd", "otp"] };
    }
  }

  /** Tries `code` against every factor under the person's lock; the matching one's new state is written. */
  async #use(personId: string, code: string): Promise<"totp" | "recovery" | null> {
    const now = this.#now();
    return this.#factors.update(personId, (factors) => {
      for (const [i, record] of factors.entries()) {
        // A passkey answers its own ceremony, never a typed code.
        if (record.kind === "webauthn") continue;
        const check = KINDS[record.kind].check(record, code, now);
        if (!check.matched) continue;
        const next = [...factors];
        next[i] = { ...record, state: check.state, lastUsedAt: now };
        return { factors: next, result: record.kind };
      }
      return { result: null };
    });
  }

  /**
   * Removes one factor. Removing the last primary one (which takes the recovery codes with it) needs `freshCode`,
   * a second factor checked now as {@link verify} does: a stolen browser session alone cannot turn MFA off.
   */
  async remove(identity: Identity, factorId: string, opts: { freshCode?: string; address: string }): Promise<void> {
    const factors = await this.#factors.list(identity.id);
    const target = factors.find((f) => f.id === factorId);
    if (!target) throw new ArchwayError("not_found", "no such factor", 404);
    const primaries = factors.filter((f) => KINDS[f.kind].primary);
    const last = KINDS[target.kind].primary && primaries.length === 1;
    if (last) {
      if (!opts.freshCode)
        throw new ArchwayError(
          "mfa_required",
          "removing your last factor needs a current code from it (or, for a passkey, a recovery code)",
          400,
        );
      await this.verify(identity, opts.freshCode, opts.address);
    }
    await this.#factors.update(identity.id, (list) => ({
      factors: last
        ? list.filter((f) => f.id !== factorId && f.kind !== "recovery")
        : list.filter((f) => f.id !== factorId),
      result: undefined,
    }));
    await this.#forgetPasskeys([target]);
    await this.#audit({ type: "mfa.removed", actor: identity.id, kind: target.kind, label: target.label, last });
  }

  /**
   * The recovery codes that come with a person's first factor when it was added elsewhere (a passkey registered on
   * `/passkeys`): when the person holds a primary factor and no recovery codes, 10 new ones, returned once; else
   * undefined (they have codes already, or no factor).
   */
  async firstFactorRecoveryCodes(identity: Identity): Promise<string[] | undefined> {
    const codes = newRecoveryCodes();
    const now = this.#now();
    const made = await this.#factors.update(identity.id, (factors) => {
      if (!factors.some((f) => KINDS[f.kind].primary) || factors.some((f) => f.kind === "recovery"))
        return { result: false };
      return { factors: [...factors, recoveryRecord(codes, now)], result: true };
    });
    if (!made) return undefined;
    await this.#audit({ type: "mfa.recovery_renewed", actor: identity.id, first: true });
    return codes;
  }

  /** Replaces the person's recovery codes with 10 new ones, returned once. Needs an enrolled factor. */
  async renewRecoveryCodes(identity: Identity): Promise<string[]> {
    const codes = newRecoveryCodes();
    const now = this.#now();
    const done = await this.#factors.update(identity.id, (factors) => {
      if (!factors.some((f) => KINDS[f.kind].primary)) return { result: false };
      return { factors: [...factors.filter((f) => f.kind !== "recovery"), recoveryRecord(codes, now)], result: true };
    });
    if (!done) throw new ArchwayError("mfa_required", "enrol a factor before asking for recovery codes", 400);
    await this.#audit({ type: "mfa.recovery_renewed", actor: identity.id });
    return codes;
  }

  /** An administrator's reset: every factor of the person removed (audited with who asked). Resolves how many. */
  async reset(personId: string, actor: string): Promise<number> {
    const removed = await this.#factors.update(personId, (factors) => ({ factors: [], result: factors }));
    await this.#forgetPasskeys(removed);
    await this.#audit({ type: "mfa.reset", actor, person: personId, removed: removed.length });
    return removed.length;
  }

  /** Drops the usernameless index entries of removed passkeys, so the credential no longer names an owner. */
  async #forgetPasskeys(removed: readonly FactorRecord[]): Promise<void> {
    for (const record of removed) {
      const credentialId = credentialIdOf(record);
      if (credentialId !== null) await this.#store.delete(passkeyOwnerKey(credentialId));
    }
  }
}

function recoveryRecord(codes: readonly string[], now: number): FactorRecord {
  return {
    id: newId(),
    kind: "recovery",
    label: "recovery codes",
    createdAt: now,
    secret: codes.map(hashRecoveryCode).join(" "),
    state: {},
  };
}

function enrolKey(personId: string, id: string): string {
  return `mfa:enrol:${personId}:${id}`;
}
