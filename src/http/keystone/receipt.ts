import type { Context } from "hono";
import { isArchwayError } from "../../errors.js";
import { foldUsername, type Identity, type MfaService, retryAfterOf } from "../../identity/index.js";
import { FACADE_DOMAIN } from "../../tokens/index.js";
import { type AppEnv, clientIp, requestHeader, setResponseHeader } from "../env.js";
import type { AuthRequest } from "./auth-request.js";
import { jsonText, KeystoneHttpError } from "./caller.js";
import { facadeUserId, keystoneTime } from "./shapes.js";

/** Keystone's header for an auth receipt, both ways. */
export const RECEIPT_HEADER = "openstack-auth-receipt";

type Identified = AuthRequest["auth"]["identity"];
type TotpUser = NonNullable<Identified["totp"]>["user"];

/** The methods passed so far and who passed them, or a 401 answer carrying a receipt. */
export type SecondFactorOutcome =
  | { kind: "done"; identity: Identity; methods: string[]; amr: string[]; receipt?: string }
  | { kind: "receipt"; response: Response };

/**
 * The identity a request's receipt stands for (Keystone's `Openstack-Auth-Receipt` on a request continuing a
 * sign-in), or undefined without one. An unknown or expired receipt is Keystone's 401.
 */
export async function fromReceipt(
  c: Context<AppEnv>,
  mfa: MfaService | undefined,
): Promise<{ id: string; identity: Identity; methods: string[] } | undefined> {
  const id = requestHeader(c, RECEIPT_HEADER);
  if (!id || !mfa) return undefined;
  const pending = await mfa.pending.get(id);
  if (pending?.purpose !== "receipt") throw new KeystoneHttpError(401, "The auth receipt is not valid.");
  return { id, identity: pending.identity, methods: pending.methods };
}

/**
 * Keystone's multi-factor rules for a request whose first factor (`password`, now or through a receipt) passed:
 * with `totp` in the same request, the code is checked (as the web's second step checks it: counted per person
 * and address, accepted once); without it, when the person's source asks for a second factor, the answer is
 * Keystone's 401 with a receipt (`Openstack-Auth-Receipt`, `receipt`, `required_auth_methods`) that a second request
 * completes with the `totp` method alone.
 */
export async function secondFactor(
  c: Context<AppEnv>,
  mfa: MfaService | undefined,
  opts: { identity: Identity; methods: string[]; totp: Identified["totp"]; receipt?: string },
): Promise<SecondFactorOutcome> {
  const { identity } = opts;
  const methods = [...opts.methods];
  const step = mfa ? await mfa.secondStep(identity) : "none";
  if (opts.totp && mfa) {
    if (!totpUserMatches(opts.totp.user, identity))
      throw new KeystoneHttpError(401, "The totp method names another user than the first method.");
    await mfa.verify(identity, opts.totp.user.passcode, clientIp(c)).catch((err: unknown) => {
      const retryAfter = retryAfterOf(err);
      if (retryAfter !== undefined) setResponseHeader(c, "retry-after", String(retryAfter));
      if (isArchwayError(err) && err.code === "mfa_failed")
        throw new KeystoneHttpError(401, "Invalid username or TOTP passcode");
      throw err;
    });
    methods.push("totp");
    return { kind: "done", identity, methods, amr: ["pwd", "otp"], ...receiptOf(opts) };
  }
  if (opts.totp) throw new KeystoneHttpError(401, "TOTP is not available here.");
  if (step === "none" || !mfa) return { kind: "done", identity, methods, amr: ["pwd"], ...receiptOf(opts) };
  if (step === "enrol")
    throw new KeystoneHttpError(
      401,
      "Your identity source requires a second factor and you have none yet: sign in on Archway's web pages once to set one up.",
    );
  const { id, pending } = await mfa.pending.start(identity, { methods, purpose: "receipt" });
  setResponseHeader(c, RECEIPT_HEADER, id);
  const body = {
    receipt: {
      methods,
      user: { id: facadeUserId(identity), name: identity.username, domain: FACADE_DOMAIN },
      expires_at: keystoneTime(pending.expiresAt),
      issued_at: keystoneTime(pending.issuedAt),
    },
    required_auth_methods: [["password", "totp"]],
  };
  return { kind: "receipt", response: jsonText(c, JSON.stringify(body), 401) };
}

function receiptOf(opts: { receipt?: string }): { receipt?: string } {
  return opts.receipt ? { receipt: opts.receipt } : {};
}

/** Whether the `totp` method's user is the person the first method identified (by facade id, or by name). */
function totpUserMatches(user: TotpUser, identity: Identity): boolean {
  if (user.id !== undefined) return user.id === facadeUserId(identity);
  return user.name !== undefined && foldUsername(user.name) === foldUsername(identity.username);
}
