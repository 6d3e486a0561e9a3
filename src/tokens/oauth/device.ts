import { randomInt } from "node:crypto";
import { z } from "zod";
import { getJson, type Store, setJson } from "../../store/index.js";
import { digestOf, type Grant, GrantSchema, randomToken } from "./grants.js";

/** RFC 8628 section 6.1: consonants only (no vowels: no words), no look-alikes. */
const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";

const PendingSchema = z.object({
  clientId: z.string(),
  scope: z.array(z.string()),
  cloudId: z.string().optional(),
  /** Tokens for the `/v3` facade (`archway login`), see the grant's `facade`. */
  facade: z.boolean().optional(),
  userCode: z.string(),
  expiresAt: z.number(),
  status: z.enum(["pending", "approved", "denied"]),
  grant: GrantSchema.optional(),
});
/** A device authorization request as the `/device` page shows it. */
export type DeviceRequest = z.infer<typeof PendingSchema>;

/** What polling the token endpoint with a device code finds (RFC 8628 section 3.5). */
export type DevicePoll =
  | { kind: "approved"; grant: Grant }
  | { kind: "authorization_pending" | "slow_down" | "access_denied" | "expired_token" | "invalid_grant" };

/** Normalises what a person types: upper case, no separators, so `bcdf-ghjk` and `BCDFGHJK` match. */
export function normalizeUserCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z]/g, "");
}

/**
 * Device authorization grants (RFC 8628): a device code the client polls with, and a short user code a person types
 * on `/device` after signing in. Approval is single-use: the first successful poll consumes it.
 */
export class DeviceCodes {
  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async start(req: { clientId: string; scope: string[]; cloudId?: string; facade?: boolean }) {
    const deviceCode = randomToken();
    const raw = Array.from({ length: 8 }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join("");
    const record: DeviceRequest = { ...req, userCode: raw, expiresAt: this.now() + this.ttlMs, status: "pending" };
    const digest = digestOf(deviceCode);
    await setJson(this.store, `oauth:device:${digest}`, record, { ttlMs: this.ttlMs });
    await setJson(this.store, `oauth:user-code:${raw}`, { digest }, { ttlMs: this.ttlMs });
    return { deviceCode, userCode: `${raw.slice(0, 4)}-${raw.slice(4)}`, expiresInSeconds: this.ttlMs / 1000 };
  }

  /** The pending request a user code names, for the approval page. */
  async find(userCode: string): Promise<{ digest: string; request: DeviceRequest } | null> {
    const ref = await getJson(
      this.store,
      `oauth:user-code:${normalizeUserCode(userCode)}`,
      z.object({ digest: z.string() }),
    );
    if (!ref) return null;
    const request = await getJson(this.store, `oauth:device:${ref.digest}`, PendingSchema);
    if (request?.status !== "pending" || request.expiresAt <= this.now()) return null;
    return { digest: ref.digest, request };
  }

  /** Records the person's answer; the user code stops working either way. */
  async decide(userCode: string, decision: { approve: Grant } | { deny: true }): Promise<boolean> {
    const found = await this.find(userCode);
    if (!found) return false;
    await this.store.delete(`oauth:user-code:${normalizeUserCode(userCode)}`);
    const next: DeviceRequest =
      "approve" in decision
        ? { ...found.request, status: "approved", grant: decision.approve }
        : { ...found.request, status: "denied" };
    await setJson(this.store, `oauth:device:${found.digest}`, next, {
      ttlMs: Math.max(1_000, next.expiresAt - this.now()),
    });
    return true;
  }

  /** One poll of the token endpoint. */
  async poll(deviceCode: string, clientId: string): Promise<DevicePoll> {
    const digest = digestOf(deviceCode);
    const request = await getJson(this.store, `oauth:device:${digest}`, PendingSchema);
    if (!request || request.clientId !== clientId) return { kind: "invalid_grant" };
    if (request.expiresAt <= this.now()) return { kind: "expired_token" };
    if (request.status === "denied") return { kind: "access_denied" };
    if (request.status === "approved" && request.grant) {
      if (!(await this.store.setIfAbsent(`oauth:device-used:${digest}`, "1", { ttlMs: this.ttlMs })))
        return { kind: "invalid_grant" };
      return { kind: "approved", grant: request.grant };
    }
    // A client polling faster than the interval is told to slow down (RFC 8628 section 3.5).
    const fresh = await this.store.setIfAbsent(`oauth:device-poll:${digest}`, "1", { ttlMs: this.intervalMs });
    return { kind: fresh ? "authorization_pending" : "slow_down" };
  }
}
