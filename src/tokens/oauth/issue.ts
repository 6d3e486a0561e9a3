import { type Cloud, federationAudience } from "../../config/index.js";
import { archwayAcr, type Identity, satisfiesMfa } from "../../identity/index.js";
import { type CompiledPolicySet, evaluate, federationGroups } from "../../policy/index.js";
import { FACADE_AUDIENCE } from "../entitlements.js";
import type { SigningAlgorithm } from "../keyring.js";
import type { IssuedToken, TokenService } from "../tokens.js";
import type { Grant } from "./grants.js";

/** What {@link OidcTokenIssuer} needs. */
export interface OidcIssuerOptions {
  tokens: TokenService;
  clouds: readonly Cloud[];
  policies: () => CompiledPolicySet;
  accessTokenTtlSeconds: number;
  idTokenTtlSeconds: number;
  /**
   * The `alg` a client asked for its ID tokens (`idTokenSignedResponseAlg`); undefined signs with Archway's own
   * algorithm (ES256 by default).
   */
  idTokenAlgorithm?: (clientId: string) => SigningAlgorithm | undefined;
}

/** The person-independent part of a token request. */
export interface ClientGrant {
  clientId: string;
  scope: string[];
  cloudId?: string;
}

/**
 * Mints the OpenID Provider's tokens. Access tokens are RFC 9068 JWTs (`typ: at+jwt`) whose audience is one
 * federated cloud (or Archway itself), and whose `groups` are computed from policy for that cloud at issue time:
 * exactly the groups its Keystone mapping turns into project roles. ID tokens are for the client (`aud` = client id).
 */
export class OidcTokenIssuer {
  readonly #o: OidcIssuerOptions;
  readonly #clouds: Map<string, Cloud>;
  /** Fixed for the process (clouds come from the configuration): userinfo and introspection read it per request. */
  readonly #audiences: string[];

  constructor(opts: OidcIssuerOptions) {
    this.#o = opts;
    this.#clouds = new Map(opts.clouds.map((c) => [c.id, c]));
    this.#audiences = [
      opts.tokens.issuer,
      ...opts.clouds.filter((c) => c.mode === "federated").map(federationAudience),
    ];
  }

  get issuer(): string {
    return this.#o.tokens.issuer;
  }

  get accessTokenTtlSeconds(): number {
    return this.#o.accessTokenTtlSeconds;
  }

  /** The audience of access tokens for `cloudId` (Archway's own issuer URL without one). */
  audience(cloudId?: string): string {
    const cloud = cloudId ? this.#clouds.get(cloudId) : undefined;
    return cloud ? federationAudience(cloud) : this.issuer;
  }

  /** Every audience Archway's access tokens may carry (for userinfo and introspection). */
  audiences(): string[] {
    return this.#audiences;
  }

  /** The cloud whose audience is `resource` among `allowed` (RFC 8707), if any. */
  cloudForResource(resource: string, allowed: readonly string[]): string | undefined {
    return allowed.find((id) => {
      const cloud = this.#clouds.get(id);
      return cloud && (federationAudience(cloud) === resource || cloud.id === resource);
    });
  }

  /** An access token for a person (`grant`) or for the client itself (client credentials). */
  async accessToken(grant: Grant | ClientGrant): Promise<IssuedToken> {
    const person = "identity" in grant ? grant : undefined;
    return this.#o.tokens.issue({
      subject: person ? person.identity.id : grant.clientId,
      audience: person?.facade ? FACADE_AUDIENCE : this.audience(grant.cloudId),
      ttlSeconds: this.#o.accessTokenTtlSeconds,
      ...(person?.sessionEnd !== undefined ? { notAfter: person.sessionEnd / 1000 } : {}),
      claims: {
        client_id: grant.clientId,
        scope: grant.scope.join(" "),
        ...(person?.sid ? { sid: person.sid } : {}),
        ...(person
          ? {
              auth_time: person.authTime,
              ...authClaims(person.amr),
              ...this.#personClaims(person.identity, grant.cloudId, person.amr),
            }
          : {}),
      },
    });
  }

  /** An OpenID Connect ID token for the client, signed with the algorithm it asked for. */
  async idToken(grant: Grant): Promise<IssuedToken> {
    const scope = new Set(grant.scope);
    const id = grant.identity;
    return this.#o.tokens.issue({
      subject: id.id,
      audience: grant.clientId,
      ttlSeconds: this.#o.idTokenTtlSeconds,
      type: "JWT",
      ...(grant.sessionEnd !== undefined ? { notAfter: grant.sessionEnd / 1000 } : {}),
      algorithm: this.#o.idTokenAlgorithm?.(grant.clientId),
      claims: {
        azp: grant.clientId,
        ...(grant.sid ? { sid: grant.sid } : {}),
        auth_time: grant.authTime,
        ...authClaims(grant.amr),
        ...(grant.nonce ? { nonce: grant.nonce } : {}),
        ...(scope.has("profile") ? { preferred_username: id.username, name: id.displayName } : {}),
        ...(scope.has("email") && id.email ? { email: id.email } : {}),
        ...(scope.has("groups") ? { groups: id.groups } : {}),
      },
    });
  }

  /**
   * Claims about the person. For a cloud: the username Keystone's mapping names the user by and the groups policy
   * gives them there. For Archway itself: the directory's groups.
   */
  #personClaims(
    identity: Identity,
    cloudId: string | undefined,
    amr: readonly string[] | undefined,
  ): Record<string, unknown> {
    const cloud = cloudId ? this.#clouds.get(cloudId) : undefined;
    // A cloud's groups for this session's strength: grants that wait on a second factor only with one.
    const groups = cloud
      ? federationGroups(evaluate(identity, this.#o.policies(), { mfa: satisfiesMfa(amr) }).get(cloud.id), cloud.domain)
      : identity.groups;
    return {
      preferred_username: identity.username,
      ...(identity.displayName ? { name: identity.displayName } : {}),
      ...(identity.email ? { email: identity.email } : {}),
      groups,
    };
  }
}

/** `amr` (the session's RFC 8176 values) and Archway's `acr` for them; nothing for a grant that recorded none. */
function authClaims(amr: readonly string[] | undefined): { amr?: string[]; acr?: string } {
  if (!amr) return {};
  return amr.length > 0 ? { amr: [...amr], acr: archwayAcr(amr) } : { acr: archwayAcr(amr) };
}
