import type { IdentitySource } from "./source.js";

/**
 * What Archway does when an upstream refuses to refresh a session's grant (`invalid_grant`): `end-sessions` ends
 * the person's login sessions from that source (their offline grants stay), `offboard` offboards them everywhere
 * (for upstreams where a refusal means the account was disabled or deleted), `off` does not check grants.
 */
export type RefreshFailureAction = "end-sessions" | "offboard" | "off";

/**
 * An upstream whose grants Archway keeps (the refresh token of each SSO login) and renews during the detection
 * run: a refusal tells that the upstream no longer vouches for the person.
 */
export interface UpstreamGrantSource extends IdentitySource {
  readonly refreshFailure: RefreshFailureAction;
  /**
   * Spends `refreshToken` at the upstream's token endpoint. Resolves the refresh token to keep (the rotated one, or
   * the same), or null when the upstream refused the grant (`invalid_grant`). Throws when it cannot tell (network,
   * 5xx, any other error): nothing must change then.
   */
  renew(refreshToken: string): Promise<{ refreshToken: string } | null>;
}

export function isUpstreamGrantSource(s: IdentitySource): s is UpstreamGrantSource {
  return typeof (s as Partial<UpstreamGrantSource>).renew === "function";
}
