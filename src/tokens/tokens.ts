import { randomUUID } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import type { Audit } from "../audit/index.js";
import { ArchwayError, isArchwayError, STORE_UNAVAILABLE } from "../errors.js";
import type { ArchwayMetrics, TokenKind, TokenResult } from "../metrics/index.js";
import type { Store } from "../store/index.js";
import { FACADE_AUDIENCE } from "./entitlements.js";
import type { KeyRing, SigningAlgorithm, VerificationKey } from "./keyring.js";
import { type IdentitySessions, revokedBy, sessionKeys } from "./sessions/index.js";
import { encodeJwsHeader, signJwt, signJwtInPool } from "./sign.js";

/** Claims every Archway token carries, plus whatever the issuer adds. */
export interface ArchwayClaims extends JWTPayload {
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  aud: string | string[];
}

/** What {@link TokenService.issue} returns. */
export interface IssuedToken {
  token: string;
  jti: string;
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
}

interface TokenServiceOptions {
  store: Store;
  keys: KeyRing;
  issuer: string;
  audit?: Audit;
  now?: () => number;
  /** Seconds of clock skew tolerated on exp/nbf. */
  clockToleranceSeconds?: number;
  /**
   * Asked before each signature: true computes it on the thread pool rather than inline (see {@link signJwtInPool}),
   * which pays when other requests are waiting on the event loop. Inline when absent.
   */
  offloadSigning?: () => boolean;
  /**
   * Where tokens carrying a `sid` are revoked (their session's revocation value). Without it every token is
   * checked against its own `jti` key only, and sessions cannot end their tokens.
   */
  sessions?: Pick<IdentitySessions, "revokeIn">;
  /** Counts tokens issued and checked (`archway_tokens_issued_total`, `archway_tokens_validated_total`). */
  metrics?: Pick<ArchwayMetrics, "tokenIssued" | "tokenValidated">;
}

const REVOKED = "tokens:revoked:";

/** The metrics label of a refusal's code. */
const TOKEN_RESULTS: Record<string, TokenResult> = {
  token_expired: "expired",
  token_revoked: "revoked",
  [STORE_UNAVAILABLE]: "unavailable",
};

/** Facade tokens (the Keystone facade's audience) or access tokens (any other audience), for the metrics. */
function kindOf(audience: string | readonly string[]): TokenKind {
  return audience === FACADE_AUDIENCE ? "facade" : "access";
}

/**
 * A remembered verification: the claims, the key that signed them, the token's revocation key in the store and the
 * token's audit chain. A token of a session is checked against the session's revocation value (ended, or chains
 * and tokens revoked under it); a token without a session (client credentials) against its own `jti` key.
 */
interface Verified {
  claims: ArchwayClaims;
  kid: string;
  revokedKey: string;
  /** The chain id (`ach` claim, else the token's own `jti`) when the key is a session's, else undefined. */
  chain: string | undefined;
}

/**
 * A token's audit chain (Keystone's `audit_ids`): a token made from another (re-scoping with the token method)
 * carries the chain of the first token as `ach`; the first token's chain is its own `jti`.
 */
export function auditChain(claims: Pick<ArchwayClaims, "jti"> & { ach?: unknown }): string {
  return typeof claims.ach === "string" ? claims.ach : claims.jti;
}

/**
 * The key of a use (audience and type) among a token's remembered verifications: the audience itself in the
 * common case (one audience, the default type), so nothing is built per request; otherwise a composite that
 * starts with a NUL no configured audience starts with.
 */
function useKey(opts: { audience: string | string[]; type?: string }): string {
  if (typeof opts.audience === "string" && opts.type === undefined) return opts.audience;
  return `\0${String(opts.audience)}\0${opts.type ?? ""}`;
}
const VERIFIED_CACHE_MAX = 10_000;
/**
 * While the store is unreachable, a revocation value read this recently still answers (issue 23): the same bound
 * as the sessions' local copy, so an outage adds no staleness a healthy store does not already allow.
 */
const REVOCATION_GRACE_MS = 5_000;

/** The registered claims Archway sets on every token: a caller's claim of the same name never replaces one. */
const REGISTERED_CLAIMS: ReadonlySet<string> = new Set(["iss", "sub", "aud", "iat", "nbf", "exp", "jti"]);

/**
 * `registered` with the caller's other claims copied in. Not an object spread (`{ ...claims, iss, ... }`): callers
 * pass claims of many shapes, and V8 then built every payload through its runtime's slow path, a visible share of
 * each token issued.
 */
function withClaims(registered: Record<string, unknown>, claims: Record<string, unknown> | undefined) {
  if (claims) for (const name of Object.keys(claims)) if (!REGISTERED_CLAIMS.has(name)) registered[name] = claims[name];
  return registered;
}
/**
 * A compact JWS in canonical base64url: three segments of the URL-safe alphabet only, no padding, no impossible
 * length (4n+1), and the unused low bits of a last partial group zero (`[AQgw]` after one character, a multiple of
 * four after two). Node's and jose's decoders accept the other spellings, so one token had many strings that all
 * verified; now it has one. Checked only before a signature check: a remembered verification is keyed by the exact
 * string that passed this, so the hot path of a known token pays nothing for it.
 */
const B64URL = "[A-Za-z0-9_-]";
const SEGMENT = `(?:${B64URL}{4})*(?:${B64URL}[AQgw]|${B64URL}{2}[AEIMQUYcgkosw048])?`;
const CANONICAL_JWS = new RegExp(`^${SEGMENT}\\.${SEGMENT}\\.${SEGMENT}$`);

/** Header `typ` of access tokens (RFC 9068). */
export const ACCESS_TOKEN_TYPE = "at+jwt";

/**
 * Issues and verifies Archway's own short-lived JWTs. Verification pins the algorithm to the key that signed
 * (never `none`, never HMAC with a public key), requires the audience of the use at hand, and checks the `jti`
 * revocation list in the store on every use.
 */
export class TokenService {
  readonly #o: Required<Omit<TokenServiceOptions, "audit" | "offloadSigning" | "sessions" | "metrics">> &
    Pick<TokenServiceOptions, "audit" | "offloadSigning" | "sessions" | "metrics">;
  /** Token -> (audience and type it was verified for) -> what that verification found. */
  readonly #verified = new Map<string, Map<string, Verified>>();
  /** The last revocation value read per key, and when: used only while the store is unavailable. */
  readonly #revocations = new Map<string, { at: number; value: string | null }>();
  /** Encoded JWS headers by kid and type. */
  readonly #headers = new Map<string, string>();

  constructor(opts: TokenServiceOptions) {
    this.#o = { now: Date.now, clockToleranceSeconds: 5, ...opts };
  }

  get issuer(): string {
    return this.#o.issuer;
  }

  /** Signs a token for `subject` valid for `audience` during `ttlSeconds`. */
  async issue(opts: {
    subject: string;
    audience: string | string[];
    ttlSeconds: number;
    claims?: Record<string, unknown>;
    type?: string;
    /**
     * The latest expiry allowed, seconds since the epoch: the token this one was made from, or the end of the session
     * it hangs off. A chain of tokens never outlives its first one, nor its session.
     */
    notAfter?: number;
    /** The key ring's algorithm to sign with (ID tokens per client); Archway's own when absent. */
    algorithm?: SigningAlgorithm;
  }): Promise<IssuedToken> {
    const key = await this.#o.keys.signingKey(opts.algorithm);
    const iat = Math.floor(this.#o.now() / 1000);
    const jti = randomUUID();
    const expiresAt =
      opts.notAfter === undefined ? iat + opts.ttlSeconds : Math.min(iat + opts.ttlSeconds, Math.floor(opts.notAfter));
    if (expiresAt <= iat)
      throw new ArchwayError("token_expired", "the session or token this one would come from has ended", 401);
    const header = this.#encodedHeader(key.alg, key.kid, opts.type ?? ACCESS_TOKEN_TYPE);
    const payload = withClaims(
      { iss: this.#o.issuer, sub: opts.subject, aud: opts.audience, iat, nbf: iat, exp: expiresAt, jti },
      opts.claims,
    );
    const token = this.#o.offloadSigning?.()
      ? await signJwtInPool(header, payload, key)
      : signJwt(header, payload, key);
    this.#o.metrics?.tokenIssued(opts.type === "JWT" ? "id" : kindOf(opts.audience));
    await this.#o.audit?.({ type: "token.issued", actor: opts.subject, audience: opts.audience, jti, expiresAt });
    return { token, jti, expiresAt };
  }

  /** The encoded JWS header for a key and token type, made once: it is the same for every such token. */
  #encodedHeader(alg: string, kid: string, typ: string): string {
    const key = `${kid} ${typ}`;
    let encoded = this.#headers.get(key);
    if (encoded === undefined) {
      encoded = encodeJwsHeader({ alg, kid, typ });
      // Keys rotate: forget the headers of old ones now and then rather than keep every one.
      if (this.#headers.size >= 32) this.#headers.clear();
      this.#headers.set(key, encoded);
    }
    return encoded;
  }

  /**
   * Verifies encoding (canonical base64url only), signature, issuer, audience, lifetime and revocation. Throws `ArchwayError` with code
   * `token_invalid`, `token_expired` or `token_revoked` (status 401).
   */
  async verify(token: string, opts: { audience: string | string[]; type?: string }): Promise<ArchwayClaims> {
    try {
      // Awaited only when pending: a token verified before and a key still trusted are known without a promise.
      const known = this.#verification(token, opts);
      const { claims, revokedKey, chain } = known instanceof Promise ? await known : known;
      // One store read per use, as before sessions could end: the session's revocation value covers the session's
      // end, the token's chain and the token itself at once.
      const revoked = await this.#revocation(revokedKey);
      if (revoked !== null && (chain === undefined || revokedBy(revoked, claims.jti, chain))) {
        throw new ArchwayError("token_revoked", "the token was revoked", 401);
      }
      this.#o.metrics?.tokenValidated(kindOf(opts.audience), "valid");
      return claims;
    } catch (err) {
      const refused = toTokenError(err);
      this.#o.metrics?.tokenValidated(kindOf(opts.audience), TOKEN_RESULTS[refused.code] ?? "invalid");
      // A store outage refuses nothing about the token (a 503): no refusal to audit, into a store that is down.
      if (refused.code !== STORE_UNAVAILABLE) await this.#o.audit?.({ type: "token.refused", reason: refused.code });
      throw refused;
    }
  }

  /** The revocation value of `key`; while the store is down, the value read in the last few seconds, if any. */
  async #revocation(key: string): Promise<string | null> {
    try {
      const value = await this.#o.store.get(key);
      // Updated in place: a busy token's entry is rewritten on every use, with no new object each time.
      const seen = this.#revocations.get(key);
      if (seen) {
        seen.at = this.#o.now();
        seen.value = value;
      } else {
        if (this.#revocations.size >= VERIFIED_CACHE_MAX) this.#revocations.clear();
        this.#revocations.set(key, { at: this.#o.now(), value });
      }
      return value;
    } catch (err) {
      const seen = this.#revocations.get(key);
      if (
        isArchwayError(err) &&
        err.code === STORE_UNAVAILABLE &&
        seen &&
        this.#o.now() - seen.at < REVOCATION_GRACE_MS
      )
        return seen.value;
      throw err;
    }
  }

  /**
   * Signature, issuer, audience and type only, as of the token's own issue time: for hints such as
   * `id_token_hint`, which may have expired and still identify their client. Never for granting access.
   */
  async verifyIgnoringExpiry(token: string, opts: { audience: string; type: string }): Promise<ArchwayClaims | null> {
    let iat: number;
    try {
      iat = Number(decodeJwt(token).iat);
    } catch {
      return null;
    }
    if (!Number.isFinite(iat)) return null;
    return this.#verifySignature(token, opts, new Date(iat * 1000)).catch(() => null);
  }

  /**
   * Revokes a token until it would have expired anyway: a token of a session by `jti` under that session (see
   * {@link revokeChain} for its descendants), any other by its own `jti` key.
   */
  async revoke(token: { jti: string; exp: number; sid?: unknown }, actor?: string): Promise<void> {
    if (typeof token.sid === "string" && this.#o.sessions) await this.#o.sessions.revokeIn(token.sid, [token.jti]);
    else {
      const ttlMs = Math.max(1_000, token.exp * 1000 - this.#o.now() + this.#o.clockToleranceSeconds * 1000);
      await this.#o.store.set(REVOKED + token.jti, "1", { ttlMs });
    }
    await this.#o.audit?.({ type: "token.revoked", actor, jti: token.jti });
  }

  /**
   * Revokes a token's whole audit chain (Keystone's `audit_chain_id`): the first token and every token re-scoped
   * from it or from one of them. The session goes on.
   */
  async revokeChain(claims: ArchwayClaims, actor?: string): Promise<void> {
    if (typeof claims.sid !== "string" || !this.#o.sessions) return this.revoke(claims, actor);
    const chain = auditChain(claims);
    await this.#o.sessions.revokeIn(claims.sid, [chain]);
    await this.#o.audit?.({ type: "token.chain_revoked", actor, jti: claims.jti, chain });
  }

  /**
   * Signature, issuer, audience and type checks are pure functions of the token: remember their result for the
   * token's lifetime (bounded), so a busy client pays the ES256 verification once. Expiry and revocation are
   * still checked on every use.
   */
  #verification(token: string, opts: { audience: string | string[]; type?: string }): Verified | Promise<Verified> {
    // Keyed by the token as received, then by the use: concatenating both into one key meant building and
    // hashing a fresh ~600-character string on every request.
    const scope = useKey(opts);
    const scopes = this.#verified.get(token);
    const hit = scopes?.get(scope);
    if (!hit) return this.#verifyAndRemember(token, opts, scope, scopes);
    if (hit.claims.exp + this.#o.clockToleranceSeconds <= this.#o.now() / 1000) {
      this.#verified.delete(token);
      throw new ArchwayError("token_expired", "the token has expired", 401);
    }
    const keys = this.#o.keys.cachedVerificationKeys();
    return keys
      ? this.#stillTrusted(token, hit, keys)
      : this.#o.keys.verificationKeys().then((fresh) => this.#stillTrusted(token, hit, fresh));
  }

  /** The remembered verification, unless the key that signed it has been retired since (rotation). */
  #stillTrusted(token: string, hit: Verified, keys: VerificationKey[]): Verified {
    if (keys.some((k) => k.kid === hit.kid)) return hit;
    this.#verified.delete(token);
    throw new ArchwayError("token_invalid", "the token was not signed by Archway", 401);
  }

  async #verifyAndRemember(
    token: string,
    opts: { audience: string | string[]; type?: string },
    scope: string,
    scopes: Map<string, Verified> | undefined,
  ): Promise<Verified> {
    const claims = await this.#verifySignature(token, opts);
    const sid = this.#o.sessions && typeof claims.sid === "string" ? claims.sid : undefined;
    const entry: Verified = {
      claims,
      kid: String(decodeProtectedHeader(token).kid),
      revokedKey: sid ? sessionKeys.revoked(sid) : REVOKED + claims.jti,
      chain: sid ? auditChain(claims) : undefined,
    };
    if (scopes) scopes.set(scope, entry);
    else {
      if (this.#verified.size >= VERIFIED_CACHE_MAX)
        this.#verified.delete(this.#verified.keys().next().value as string);
      this.#verified.set(token, new Map([[scope, entry]]));
    }
    return entry;
  }

  async #verifySignature(
    token: string,
    opts: { audience: string | string[]; type?: string },
    at?: Date,
  ): Promise<ArchwayClaims> {
    if (!CANONICAL_JWS.test(token)) throw new ArchwayError("token_invalid", "the token is not a canonical JWS", 401);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new ArchwayError("token_invalid", "the token is not a JWT", 401);
    }
    const keys = await this.#o.keys.verificationKeys();
    const key = keys.find((k) => k.kid === header.kid);
    // Algorithm pinning: the header must name exactly the algorithm of the key with that kid.
    if (!key || header.alg !== key.alg)
      throw new ArchwayError("token_invalid", "the token was not signed by Archway", 401);
    const { payload } = await jwtVerify(token, key.publicKey, {
      algorithms: [key.alg],
      issuer: this.#o.issuer,
      audience: opts.audience,
      typ: opts.type ?? ACCESS_TOKEN_TYPE,
      clockTolerance: this.#o.clockToleranceSeconds,
      currentDate: at ?? new Date(this.#o.now()),
      requiredClaims: ["sub", "jti", "exp", "iat"],
    });
    return payload as ArchwayClaims;
  }
}

function toTokenError(err: unknown): ArchwayError {
  if (err instanceof ArchwayError) return err;
  if (err instanceof joseErrors.JWTExpired) return new ArchwayError("token_expired", "the token has expired", 401);
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    return new ArchwayError("token_invalid", `the token's ${err.claim} claim is not acceptable here`, 401);
  }
  return new ArchwayError("token_invalid", "the token's signature or format is invalid", 401);
}
