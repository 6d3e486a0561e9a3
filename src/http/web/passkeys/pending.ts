import type { Context } from "hono";
import { z } from "zod";
import { type Identity, IdentitySchema } from "../../../identity/index.js";
import { getJson, setJson } from "../../../store/index.js";
import type { WebDeps } from "../deps.js";

/**
 * A password sign-in waiting for its second step, keyed by the browser's login nonce (so it cannot be finished
 * from another browser) and short-lived. A stand-in until the factor store's generic second step lands: it asks
 * for a passkey only, and only of people who registered one.
 */
const PendingSchema = z.object({ identity: IdentitySchema, returnTo: z.string(), amr: z.array(z.string()) }).strict();
export type PendingSignIn = z.infer<typeof PendingSchema>;

const PENDING_TTL_MS = 5 * 60_000;
const key = (nonce: string) => `web:passkey:pending:${nonce}`;

/** Where the second step is asked. */
export const SECOND_STEP_PATH = "/login/second-step/passkey";

/**
 * After a password: when the person holds a passkey, remembers the sign-in and resolves the second step's URL
 * (no session yet); otherwise null, and the caller starts the session as before.
 */
export async function holdForSecondStep(
  deps: Pick<WebDeps, "passkeys" | "sessions" | "store">,
  c: Context,
  identity: Identity,
  returnTo: string,
): Promise<string | null> {
  const nonce = deps.sessions.loginNonce(c);
  if (!deps.passkeys || !nonce) return null;
  if ((await deps.passkeys.credentials.list(identity.id)).length === 0) return null;
  await setJson(deps.store, key(nonce), { identity, returnTo, amr: ["pwd"] }, { ttlMs: PENDING_TTL_MS });
  return SECOND_STEP_PATH;
}

/** The sign-in this browser has waiting, or null. */
export async function pendingSignIn(
  deps: Pick<WebDeps, "sessions" | "store">,
  c: Context,
): Promise<(PendingSignIn & { nonce: string }) | null> {
  const nonce = deps.sessions.loginNonce(c);
  const pending = nonce ? await getJson(deps.store, key(nonce), PendingSchema) : null;
  return pending && nonce ? { ...pending, nonce } : null;
}

/** Ends the wait (once: of two finishing at once, one resolves false). */
export function dropPending(deps: Pick<WebDeps, "store">, nonce: string): Promise<boolean> {
  return deps.store.delete(key(nonce));
}
