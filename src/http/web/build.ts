import { randomBytes } from "node:crypto";
import type { Audit } from "../../audit/index.js";
import type { Config } from "../../config/index.js";
import {
  FactorPasskeyLists,
  type IdentitySource,
  isLookupSource,
  isPasswordSource,
  isRedirectSource,
  type LoginGuard,
  type MfaService,
  Passkeys,
  relyingPartyOf,
  StoredKeys,
  type ValueSealer,
} from "../../identity/index.js";
import type { Logger } from "../../log/index.js";
import type { OffboardService, UpstreamGrants } from "../../offboard/index.js";
import { type CompiledPolicySet, compileSubjects } from "../../policy/index.js";
import type { Store } from "../../store/index.js";
import type { SyncParts } from "../../sync/index.js";
import {
  ApplicationCredentials,
  type IdentitySessions,
  type TokenBroker,
  type TokenService,
} from "../../tokens/index.js";
import { adminCheck, type WebDeps } from "./deps.js";
import { WebSessions } from "./session.js";

/** Builds the web pages' dependencies from the gateway's parts. */
export function createWebDeps(opts: {
  config: Config;
  publicUrl: string;
  log: Logger;
  store: Store;
  audit: Audit;
  sources: readonly IdentitySource[];
  guard: LoginGuard;
  mfa?: MfaService;
  policies: () => CompiledPolicySet;
  tokens: TokenService;
  tokenSessions: IdentitySessions;
  sync?: Pick<SyncParts, "service" | "clients">;
  broker?: TokenBroker;
  offboard?: OffboardService;
  upstreamGrants?: UpstreamGrants;
  /** Seals passkey records in the store (the runtime's store sealer). */
  sealer?: ValueSealer;
}): WebDeps {
  const { config } = opts;
  let key = config.secrets.sessionKey;
  if (!key) {
    // One process can sign its own cookies; several behind a balancer need the shared secrets.sessionKey.
    key = randomBytes(32).toString("hex");
    opts.log.warn("secrets.sessionKey is not set: web sessions only work with one Archway process");
  }
  const url = new URL(opts.publicUrl);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  // Browsers keep Secure cookies over http only on loopback; elsewhere plain http would lose every session.
  const secure = url.protocol === "https:" || loopback;
  if (!secure) opts.log.warn({ publicUrl: opts.publicUrl }, "publicUrl is plain http: session cookies are not Secure");
  return {
    publicUrl: opts.publicUrl,
    store: opts.store,
    audit: opts.audit,
    sessions: new WebSessions({
      store: opts.store,
      key,
      ttlMs: config.web.sessionTtlSeconds * 1000,
      secure,
      sessions: opts.tokenSessions,
    }),
    guard: opts.guard,
    ...(opts.mfa ? { mfa: opts.mfa } : {}),
    passwordSources: opts.sources.filter(isPasswordSource),
    redirectSources: opts.sources.filter(isRedirectSource),
    lookupSources: opts.sources.filter(isLookupSource),
    policies: opts.policies,
    clouds: config.clouds,
    keys: new StoredKeys({ store: opts.store }),
    tokens: opts.tokens,
    tokenSessions: opts.tokenSessions,
    sync: opts.sync,
    broker: opts.broker,
    offboard: opts.offboard,
    upstreamGrants: opts.upstreamGrants,
    appCredentials: opts.broker
      ? new ApplicationCredentials({
          broker: opts.broker,
          store: opts.store,
          maxDays: config.web.appCredentialMaxDays,
        })
      : undefined,
    isAdmin: adminCheck(config.web.admins, compileSubjects),
    passkeys: new Passkeys({
      store: opts.store,
      sealer: opts.sealer ?? PLAIN,
      relyingParty: relyingPartyOf(opts.publicUrl),
      // Passkeys are factors of the factor store (one sealed value and one lock per person, with TOTP and
      // recovery codes): the second step, the last-factor rule and the admin reset see them.
      ...(opts.mfa ? { lists: new FactorPasskeyLists(opts.mfa.factors) } : {}),
    }),
  };
}

/** Without a store sealer (tests that build the deps by hand), values are kept as they are, like the `Sealer`'s. */
const PLAIN: ValueSealer = { seal: (plaintext) => plaintext, open: (value) => ({ plaintext: value }) };

/** Origins of the upstream SSO providers, which sign-in and sign-out forms redirect to. */
export function ssoOrigins(sources: readonly IdentitySource[]): string[] {
  return [...new Set(sources.filter(isRedirectSource).flatMap((s) => s.formOrigins))];
}
