import { randomBytes } from "node:crypto";
import { z } from "zod";
import { getJson, type Store, setJson } from "../../../store/index.js";

/** What a challenge was issued for; a challenge of one purpose never serves another. */
export const CHALLENGE_PURPOSES = ["register", "second-step", "passwordless"] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

const ChallengeStateSchema = z
  .object({
    purpose: z.enum(CHALLENGE_PURPOSES),
    /** The person it was issued to (registration, second step); absent for a usernameless sign-in. */
    personId: z.string().optional(),
    /**
     * What ties it to one browser: the web session id, or the login nonce before sign-in. A challenge fetched
     * by one browser and answered from another is refused.
     */
    binding: z.string().min(1),
  })
  .strict();
/** A challenge's state in the store. */
export type ChallengeState = z.infer<typeof ChallengeStateSchema>;

/** How long a challenge may be answered: the ceremony's timeout plus a margin. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
const KEY = (challenge: string) => `mfa:webauthn:challenge:${challenge}`;

/**
 * WebAuthn challenges: 32 random bytes, their state in the store for {@link CHALLENGE_TTL_MS}, each answered at
 * most once. Keyed by the challenge itself (the browser signs it into `clientDataJSON`), so nothing else needs
 * carrying between the options and the answer.
 */
export class PasskeyChallenges {
  readonly #store: Store;
  readonly #ttlMs: number;

  constructor(opts: { store: Store; ttlMs?: number }) {
    this.#store = opts.store;
    this.#ttlMs = opts.ttlMs ?? CHALLENGE_TTL_MS;
  }

  /** A new challenge (base64url) remembered with `state`. */
  async issue(state: ChallengeState): Promise<string> {
    const challenge = randomBytes(32).toString("base64url");
    await setJson(this.#store, KEY(challenge), ChallengeStateSchema.parse(state), { ttlMs: this.#ttlMs });
    return challenge;
  }

  /**
   * Takes the challenge: resolves its state once, and null for an unknown, expired or already taken one. Of two
   * concurrent takers (a replayed answer racing the real one), only the one whose delete removed the key wins.
   */
  async take(challenge: string): Promise<ChallengeState | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(challenge)) return null;
    const state = await getJson(this.#store, KEY(challenge), ChallengeStateSchema);
    if (!state) return null;
    return (await this.#store.delete(KEY(challenge))) ? state : null;
  }
}

/** The challenge a WebAuthn answer signed (from its `clientDataJSON`), or null when it cannot be read. */
export function challengeOf(clientDataJSON: string): string | null {
  try {
    const parsed = z
      .object({ challenge: z.string() })
      .safeParse(JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")));
    return parsed.success ? parsed.data.challenge : null;
  } catch {
    return null;
  }
}
