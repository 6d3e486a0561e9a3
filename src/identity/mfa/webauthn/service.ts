import { createHash } from "node:crypto";
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { ArchwayError } from "../../../errors.js";
import type { Store } from "../../../store/index.js";
import type { Identity } from "../../identity.js";
import { type ChallengePurpose, challengeOf, PasskeyChallenges } from "./challenges.js";
import { PasskeyCredentials, type PasskeyLists, type ValueSealer } from "./credentials.js";
import { type PasskeyOwner, type PasskeyRecord, passkeyAmr } from "./record.js";

/** Where passkeys are valid: the relying party id (a host name) and the origins pages are served from. */
export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

/**
 * The relying party of an Archway public URL: its host name as the RP id (so passkeys survive a port or path
 * change, and WebAuthn refuses IP addresses: use `localhost` or a name) and its origin.
 */
export function relyingPartyOf(publicUrl: string, name = "Archway"): RelyingParty {
  const url = new URL(publicUrl);
  return { id: url.hostname, name, origins: [url.origin] };
}

/** The WebAuthn user handle of a person: a digest of their stable id (no name or email on the authenticator). */
export function userHandleOf(personId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(createHash("sha256").update(`archway-webauthn|${personId}`).digest());
}

/** A verified passkey sign-in. */
export interface PasskeySignIn {
  owner: PasskeyOwner;
  credential: PasskeyRecord;
  userVerified: boolean;
  /** RFC 8176 values for the session (see {@link passkeyAmr}). */
  amr: string[];
}

/** How a ceremony is tied to a browser and a person. */
export interface CeremonyContext {
  /** The web session id, or the login nonce before sign-in (see {@link PasskeyChallenges}). */
  binding: string;
  /** The person it is for; absent for a usernameless sign-in. */
  personId?: string;
}

/** A challenge as bytes: the library would take a string for UTF-8 text and encode it again. */
const bytes = (b64url: string) => new Uint8Array(Buffer.from(b64url, "base64url"));

const failed = (why: string) => new ArchwayError("passkey_failed", `the passkey was not accepted: ${why}`, 401);

/**
 * WebAuthn passkeys and security keys with @simplewebauthn/server: registration and sign-in ceremonies, with
 * single-use challenges bound to one browser, credentials sealed in the store, and the signature-counter rule.
 * Used as a second step after a password (the person's credentials are allowed) and alone (usernameless: a
 * discoverable credential with user verification, which is multi-factor by itself).
 */
export class Passkeys {
  readonly credentials: PasskeyCredentials;
  readonly #challenges: PasskeyChallenges;
  readonly #rp: RelyingParty;
  readonly #now: () => number;

  /** `lists`: where each person's credentials live (the factor store's `FactorPasskeyLists` in the gateway). */
  constructor(opts: {
    store: Store;
    sealer: ValueSealer;
    relyingParty: RelyingParty;
    lists?: PasskeyLists;
    now?: () => number;
  }) {
    this.#now = opts.now ?? Date.now;
    this.credentials = new PasskeyCredentials({
      store: opts.store,
      sealer: opts.sealer,
      now: this.#now,
      ...(opts.lists ? { lists: opts.lists } : {}),
    });
    this.#challenges = new PasskeyChallenges({ store: opts.store });
    this.#rp = opts.relyingParty;
  }

  /** Options for `navigator.credentials.create()`: a new passkey for `identity`. */
  async registrationOptions(identity: Identity, binding: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const existing = await this.credentials.list(identity.id);
    const challenge = await this.#challenges.issue({ purpose: "register", personId: identity.id, binding });
    return generateRegistrationOptions({
      rpName: this.#rp.name,
      rpID: this.#rp.id,
      userName: identity.username,
      userDisplayName: identity.displayName ?? identity.username,
      userID: userHandleOf(identity.id),
      challenge: bytes(challenge),
      attestationType: "none",
      excludeCredentials: existing.map((r) => ({ id: r.id, transports: r.transports })),
      // Discoverable where the authenticator can (usernameless sign-in); security keys without room still work
      // as a second step.
      authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    });
  }

  /** Verifies a registration answer and stores the credential under `name`. */
  async register(
    identity: Identity,
    binding: string,
    response: RegistrationResponseJSON,
    name: string,
  ): Promise<PasskeyRecord> {
    const challenge = await this.#take(response.response.clientDataJSON, "register", {
      binding,
      personId: identity.id,
    });
    let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#rp.origins,
        expectedRPID: this.#rp.id,
        requireUserVerification: false,
      });
    } catch (err) {
      throw failed(err instanceof Error ? err.message : "not verified");
    }
    if (!verified.verified) throw failed("not verified");
    const info = verified.registrationInfo;
    const record: PasskeyRecord = {
      id: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString("base64url"),
      counter: info.credential.counter,
      transports: response.response.transports ?? [],
      name,
      aaguid: info.aaguid,
      deviceType: info.credentialDeviceType,
      backedUp: info.credentialBackedUp,
      createdAt: new Date(this.#now()).toISOString(),
    };
    await this.credentials.add(identity, record);
    return record;
  }

  /**
   * Options for `navigator.credentials.get()`. With `personId` (the second step after a password) only that
   * person's credentials are allowed; without it (usernameless) any discoverable one, and the authenticator must
   * verify the person. Resolves null when the person has no passkey.
   */
  async authenticationOptions(context: CeremonyContext): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
    const purpose: ChallengePurpose = context.personId ? "second-step" : "passwordless";
    const allow = context.personId ? await this.credentials.list(context.personId) : [];
    if (context.personId && allow.length === 0) return null;
    const challenge = await this.#challenges.issue({ purpose, binding: context.binding, personId: context.personId });
    return generateAuthenticationOptions({
      rpID: this.#rp.id,
      challenge: bytes(challenge),
      allowCredentials: allow.map((r) => ({ id: r.id, transports: r.transports })),
      userVerification: purpose === "passwordless" ? "required" : "preferred",
    });
  }

  /**
   * Verifies a sign-in answer for the ceremony `context` started with {@link authenticationOptions}: the
   * challenge is taken (a replay finds it gone), the credential must belong to `context.personId` when given, the
   * signature must verify with its stored key, and its counter must move forward. `identity`, when the caller
   * re-read the person from their source, refreshes the index's copy.
   */
  async authenticate(
    context: CeremonyContext,
    response: AuthenticationResponseJSON,
    refresh?: (owner: PasskeyOwner) => Promise<Identity | null>,
  ): Promise<PasskeySignIn> {
    const purpose: ChallengePurpose = context.personId ? "second-step" : "passwordless";
    const challenge = await this.#take(response.response.clientDataJSON, purpose, context);
    const owner = await this.credentials.owner(response.id);
    if (!owner || (context.personId && owner.personId !== context.personId)) throw failed("unknown passkey");
    if (
      response.response.userHandle &&
      response.response.userHandle !== Buffer.from(userHandleOf(owner.personId)).toString("base64url")
    )
      throw failed("the passkey names another person");
    const credential = (await this.credentials.list(owner.personId)).find((r) => r.id === response.id);
    if (!credential) throw failed("unknown passkey");
    let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
    try {
      verified = await verifyAuthenticationResponse({
        response,
        expectedChallenge: challenge,
        expectedOrigin: this.#rp.origins,
        expectedRPID: this.#rp.id,
        credential: {
          id: credential.id,
          publicKey: new Uint8Array(Buffer.from(credential.publicKey, "base64url")),
          counter: credential.counter,
          transports: credential.transports,
        },
        requireUserVerification: purpose === "passwordless",
      });
    } catch (err) {
      throw failed(err instanceof Error ? err.message : "not verified");
    }
    if (!verified.verified) throw failed("not verified");
    const info = verified.authenticationInfo;
    const identity = refresh ? await refresh(owner) : owner.identity;
    if (!identity || identity.id !== owner.personId) throw failed("the person is no longer known to their source");
    const used = await this.credentials.recordUse(owner.personId, credential.id, info.newCounter, identity);
    return {
      owner: { personId: owner.personId, identity },
      credential: used,
      userVerified: info.userVerified,
      amr: passkeyAmr({ deviceType: info.credentialDeviceType, userVerified: info.userVerified }),
    };
  }

  /** Takes the challenge an answer signed and checks it was issued for this purpose, browser and person. */
  async #take(clientDataJSON: string, purpose: ChallengePurpose, context: CeremonyContext): Promise<string> {
    const challenge = challengeOf(clientDataJSON);
    const state = challenge ? await this.#challenges.take(challenge) : null;
    if (!challenge || !state) throw failed("the challenge is unknown, expired or already used");
    if (state.purpose !== purpose || state.binding !== context.binding || state.personId !== context.personId)
      throw failed("the challenge was issued for another sign-in");
    return challenge;
  }
}
