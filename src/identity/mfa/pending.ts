import { z } from "zod";
import type { Store } from "../../store/index.js";
import { type Identity, IdentitySchema } from "../identity.js";
import { newId, type RecordSealer } from "./factors-store.js";

/** How long a first step waits for the second: Keystone's receipts live 5 minutes too. */
export const PENDING_TTL_MS = 5 * 60_000;

const PendingSchema = z.object({
  identity: IdentitySchema,
  /** Methods already passed (Keystone's names: `password`). */
  methods: z.array(z.string()),
  /** What it is for: the web's second step (bound to a browser) or a facade receipt. */
  purpose: z.enum(["web", "receipt"]),
  /** Web: the login nonce of the browser that passed the first step; the second must come from it. */
  nonce: z.string().optional(),
  returnTo: z.string().optional(),
  /** Enrolment forced before any session (`mfa: required`, no factor yet). */
  enrol: z.boolean().default(false),
  /**
   * An upstream SSO first step: what the session and the upstream-grants keeping need once the second step passes
   * (the upstream's ID token for RP-initiated logout, its refresh token and `sid`), and how the upstream said the
   * person signed in (`amr` as Archway records it, `acr`).
   */
  upstream: z
    .object({
      source: z.string(),
      idToken: z.string().optional(),
      refreshToken: z.string().optional(),
      sid: z.string().optional(),
      amr: z.array(z.string()),
      acr: z.string().optional(),
    })
    .optional(),
  issuedAt: z.number(),
  expiresAt: z.number(),
});
/** A first step passed, waiting for the second. Not a session: nothing can be done with it but the second step. */
export type PendingSignIn = z.infer<typeof PendingSchema>;

/**
 * First steps waiting for their second, in the store under a random id (`mfa:pending:<id>`) that lives
 * {@link PENDING_TTL_MS}: the web's second-step form carries it, and the facade hands it out as
 * `Openstack-Auth-Receipt`. Taking it (on success) deletes it, so it completes one sign-in only. Records are
 * sealed like factors: an SSO first step carries the upstream's refresh and ID tokens, which a store dump must not
 * hand out.
 */
export class PendingSignIns {
  readonly #store: Store;
  readonly #sealer: RecordSealer;
  readonly #now: () => number;

  constructor(opts: { store: Store; sealer: RecordSealer; now?: () => number }) {
    this.#store = opts.store;
    this.#sealer = opts.sealer;
    this.#now = opts.now ?? Date.now;
  }

  /** Remembers a first step; resolves its id and record. */
  async start(
    identity: Identity,
    opts: Pick<PendingSignIn, "methods" | "purpose"> &
      Partial<Pick<PendingSignIn, "nonce" | "returnTo" | "enrol" | "upstream">>,
  ): Promise<{ id: string; pending: PendingSignIn }> {
    const now = this.#now();
    const pending: PendingSignIn = {
      identity,
      enrol: false,
      ...opts,
      issuedAt: now,
      expiresAt: now + PENDING_TTL_MS,
    };
    const id = newId(32);
    const storeKey = key(id);
    await this.#store.set(storeKey, this.#sealer.seal(JSON.stringify(pending), storeKey), { ttlMs: PENDING_TTL_MS });
    return { id, pending };
  }

  /** The pending first step, or null (unknown, expired, taken). */
  async get(id: string): Promise<PendingSignIn | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(id)) return null;
    const storeKey = key(id);
    const value = await this.#store.get(storeKey);
    if (value === null) return null;
    const parsed = PendingSchema.safeParse(parseJson(this.#sealer.open(value, storeKey).plaintext));
    return parsed.success && parsed.data.expiresAt > this.#now() ? parsed.data : null;
  }

  /** Ends it (the second step succeeded): resolves false when another request took it first. */
  async take(id: string): Promise<boolean> {
    return this.#store.delete(key(id));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function key(id: string): string {
  return `mfa:pending:${id}`;
}
