import type { Audit } from "../../audit/index.js";
import type { IdpConfig } from "../../config/index.js";
import type { Identity, LoginGuard, MfaService, PasswordSource } from "../../identity/index.js";
import type { Store } from "../../store/index.js";
import type {
  AuthorizationCodes,
  DeviceCodes,
  IdentitySessions,
  OAuthClients,
  OidcTokenIssuer,
  RefreshTokens,
  TokenService,
} from "../../tokens/index.js";
import type { WebSessions } from "../web/index.js";

/** What the OpenID Provider's endpoints need, built once by the gateway. */
export interface OidcProviderDeps {
  /** Archway's public URL: the `iss` of every token and the base of every endpoint. */
  issuer: string;
  config: IdpConfig;
  clients: OAuthClients;
  issue: OidcTokenIssuer;
  /** Verifies access and ID tokens (signature pinned to Archway's keys, revocation list). */
  tokens: TokenService;
  codes: AuthorizationCodes;
  refresh: RefreshTokens;
  devices: DeviceCodes;
  /** The signing algorithms of the key ring (Archway's own first), for discovery. */
  algorithms: readonly string[];
  /** Password grant: the same lockout and audit as every other password login. */
  guard: LoginGuard;
  /** Second factors: the password grant refuses people for whom one applies (docs/mfa.md). */
  mfa?: MfaService;
  passwordSources: readonly PasswordSource[];
  /**
   * Reads the person again from their directory at refresh time (null: they are gone; undefined: the source cannot
   * look people up, keep what the grant says).
   */
  relookup(identity: Identity): Promise<Identity | null | undefined>;
  /** Login and offline sessions: every grant hangs off one and ends with it. */
  sessions: IdentitySessions;
  /** The browser's sign-in (the `/login` page). */
  web: WebSessions;
  /** Shared state for the endpoints' own counters (failed `/device` lookups), so every Archway process agrees. */
  store: Store;
  audit: Audit;
}

/** Endpoint paths, relative to the issuer. */
export const OIDC_PATHS = {
  authorize: "/oauth2/authorize",
  token: "/oauth2/token",
  userinfo: "/oauth2/userinfo",
  revoke: "/oauth2/revoke",
  introspect: "/oauth2/introspect",
  logout: "/oauth2/logout",
  deviceAuthorization: "/oauth2/device_authorization",
  device: "/device",
  jwks: "/.well-known/jwks.json",
} as const;
