import type { Audit } from "../../audit/index.js";
import type { Cloud, WebAdmins } from "../../config/index.js";
import type {
  Identity,
  LoginGuard,
  LookupSource,
  MfaService,
  Passkeys,
  PasswordSource,
  RedirectSource,
  StoredKeys,
} from "../../identity/index.js";
import type { OffboardService, UpstreamGrants } from "../../offboard/index.js";
import type { CompiledPolicySet } from "../../policy/index.js";
import type { Store } from "../../store/index.js";
import type { SyncParts } from "../../sync/index.js";
import type { ApplicationCredentials, IdentitySessions, TokenBroker, TokenService } from "../../tokens/index.js";
import type { WebSessions } from "./session.js";

/** What the pages and `/api/v1/` need, built once by `cli/gateway.ts` (or a test). */
export interface WebDeps {
  /** Externally visible base URL: clouds.yaml points at `<publicUrl>/v3`, SSO callbacks come back here. */
  publicUrl: string;
  store: Store;
  audit: Audit;
  sessions: WebSessions;
  guard: LoginGuard;
  passwordSources: readonly PasswordSource[];
  redirectSources: readonly RedirectSource[];
  /** Sources that can find a person by username (the admin explain form). */
  lookupSources: readonly LookupSource[];
  policies: () => CompiledPolicySet;
  clouds: readonly Cloud[];
  keys: StoredKeys;
  /** Verifies Archway bearer tokens for `/api/v1/` (facade tokens, resolved through their session). */
  tokens: TokenService;
  tokenSessions: IdentitySessions;
  /** Absent without `secrets.shadowPasswordKey`: no key sync, no plan, no apply. */
  sync?: Pick<SyncParts, "service" | "clients">;
  broker?: TokenBroker;
  /** Per-cloud application credentials made on request (absent without a broker). */
  appCredentials?: ApplicationCredentials;
  /** Departures and the kill switch: the admin page's offboard and undo actions (absent without sync). */
  offboard?: OffboardService;
  /** Second factors (docs/mfa.md); absent in tests that build pages without them. */
  mfa?: MfaService;
  /** SSO logins' upstream session ids and refresh tokens (back-channel logout, grant renewal). */
  upstreamGrants?: UpstreamGrants;
  /** WebAuthn passkeys and security keys (absent where the deps are built by hand without them). */
  passkeys?: Passkeys;
  /** True when the person may use `/admin`. */
  isAdmin: (identity: Identity) => boolean;
  /** True when the person may look at `/admin` without acting (`web.auditors`); absent: nobody. */
  isAuditor?: (identity: Identity) => boolean;
}

/** Hono variables the web routes set for their handlers. */
export interface WebVariables {
  /**
   * Who is calling. A bearer token also carries its project scope (`prj`, null when unscoped): such a token acts only
   * in that project, as at the facade and the proxy.
   */
  person: {
    identity: Identity;
    sessionId?: string;
    via: "session" | "bearer";
    tokenProject?: string | null;
    /** How the login session was authenticated (RFC 8176); absent: no second factor. */
    amr?: readonly string[];
  };
  cspNonce: string;
}

/** What a person may do on `/admin`: act (`admin`), only look (`auditor`), or nothing. */
export type AdminRole = "admin" | "auditor" | null;

/** The person's admin role: `web.admins` wins over `web.auditors`. */
export function adminRole(deps: Pick<WebDeps, "isAdmin" | "isAuditor">, identity: Identity): AdminRole {
  if (deps.isAdmin(identity)) return "admin";
  return deps.isAuditor?.(identity) ? "auditor" : null;
}

/** Compiles `web.admins` (or `web.auditors`) into a check; an empty block names nobody. */
export function adminCheck(
  admins: WebAdmins,
  compile: (subjects: WebAdmins) => (identity: Identity) => string | null,
): (identity: Identity) => boolean {
  const named = admins.sources || admins.usernames || admins.groups?.anyOf || admins.groups?.allOf;
  if (!named) return () => false;
  const check = compile(admins);
  return (identity) => check(identity) === null;
}
