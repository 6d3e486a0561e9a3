import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type CacheProvider,
  generateServiceProviderMetadata,
  type Profile,
  SAML,
  type SamlConfig,
  ValidateInResponseTo,
} from "@node-saml/node-saml";
import { z } from "zod";
import { ArchwayError } from "../../errors.js";
import type { Store } from "../../store/index.js";
import type { Identity } from "../identity.js";
import { upstreamAmr } from "../mfa/strength.js";
import type {
  FrontChannelLogout,
  FrontChannelLogoutSource,
  MetadataSource,
  RedirectSource,
  RedirectStart,
  UpstreamAuth,
  UpstreamTokens,
} from "../source.js";
import { assertionEnd, readAssertion, readResponse, refusal } from "./assertion.js";
import { logoutDestinationProblem, readLogoutMessage } from "./logout-message.js";
import { NAME_ID, samlIdentity } from "./mapping.js";
import { type IdpMetadata, IdpMetadataCache } from "./metadata.js";
import type { SamlSourceConfig } from "./schema.js";

/** How long an AuthnRequest (and a logout request) waits for its answer. */
const REQUEST_TTL_MS = 10 * 60_000;
/** Metadata older than this is read again when a signature fails, in case the IdP rolled its key over. */
const ROLLOVER_RECHECK_MS = 60_000;

const PendingSchema = z.object({ requestId: z.string().min(1), relayState: z.string() }).strict();
/** What logout needs back (kept as the session's opaque upstream token). */
const LogoutHintSchema = z
  .object({
    nameID: z.string(),
    nameIDFormat: z.string(),
    nameQualifier: z.string().optional(),
    spNameQualifier: z.string().optional(),
    sessionIndex: z.string().optional(),
  })
  .strict();

/**
 * A SAML 2.0 identity provider: SP-initiated login (AuthnRequest by HTTP-Redirect or HTTP-POST, signed when the SP
 * has a key; the answer by HTTP-POST to `<publicUrl>/login/sso/<id>/callback`), Archway's SP metadata, IdP metadata
 * by URL or file read again periodically (every signing certificate listed is accepted: rollover), and single logout
 * both ways.
 *
 * What a response must pass, on top of node-saml's signature checks (a signed assertion or a signed response, per
 * `signed`; never neither; exactly one assertion, so a wrapped second one is refused): the round trip's request id
 * (kept in the store, one use), the issuer, InResponseTo, Destination, a bearer confirmation for this ACS
 * (Recipient), the audience, NotBefore / NotOnOrAfter within `clockSkewSeconds`, and an assertion ID never seen
 * before (kept in the store until the assertion's end).
 */
export class SamlSource implements RedirectSource, MetadataSource, FrontChannelLogoutSource {
  readonly type = "saml" as const;
  readonly id: string;
  readonly displayName: string;
  readonly formOrigins: readonly string[];
  readonly stateParameter = "RelayState";
  readonly #c: SamlSourceConfig;
  readonly #store: Store | undefined;
  readonly #publicUrl: string | undefined;
  readonly #metadata: IdpMetadataCache;
  readonly #now: () => number;

  constructor(config: SamlSourceConfig, ctx: { store?: Store; publicUrl?: string; now?: () => number } = {}) {
    this.id = config.id;
    this.displayName = config.displayName ?? config.id;
    this.#c = config;
    this.#store = ctx.store;
    this.#publicUrl = ctx.publicUrl?.replace(/\/+$/, "");
    this.#now = ctx.now ?? Date.now;
    this.#metadata = new IdpMetadataCache(config, { now: this.#now });
    this.formOrigins = idpOrigins(config);
  }

  /** Archway's entityID (default: its metadata URL). */
  get entityId(): string {
    return this.#c.sp.entityId ?? `${this.#base()}/metadata`;
  }

  /** The Assertion Consumer Service URL (HTTP-POST). */
  get acsUrl(): string {
    return `${this.#base()}/callback`;
  }

  /** The Single Logout Service URL (HTTP-Redirect and HTTP-POST). */
  get sloUrl(): string {
    return `${this.#base()}/logout`;
  }

  async beginLogin(opts: { redirectUri: string }): Promise<RedirectStart> {
    if (opts.redirectUri !== this.acsUrl)
      throw new ArchwayError("config_invalid", `identity source ${this.id}: the callback is not ${this.acsUrl}`, 500);
    const store = this.#needStore();
    const md = await this.#metadata.get();
    const relayState = randomBytes(24).toString("base64url");
    let requestId: string | undefined;
    const cache: CacheProvider = {
      saveAsync: async (key, value) => {
        requestId = key;
        await store.set(this.#requestKey(key), value, { ttlMs: REQUEST_TTL_MS });
        return { value, createdAt: this.#now() };
      },
      getAsync: async () => null,
      removeAsync: async () => null,
    };
    // The configured binding when the IdP offers it, else the one it does offer (metadata lists at least one).
    const post = this.#c.requestBinding === "post" ? md.sso.post !== undefined : md.sso.redirect === undefined;
    const entryPoint = (post ? md.sso.post : md.sso.redirect) as string;
    const saml = this.#saml(md, cache, { entryPoint, post });
    let start: RedirectStart;
    if (post) {
      const message = await saml.getAuthorizeMessageAsync(relayState);
      const form = Object.fromEntries(Object.entries(message).map(([k, v]) => [k, String(v)]));
      start = { url: entryPoint, form, state: relayState, pending: "" };
    } else {
      start = { url: await saml.getAuthorizeUrlAsync(relayState, undefined, {}), state: relayState, pending: "" };
    }
    if (!requestId) throw new ArchwayError("internal", `identity source ${this.id}: no request id was made`, 500);
    return { ...start, pending: JSON.stringify({ requestId, relayState }) };
  }

  async completeLogin(
    _callbackUrl: URL,
    pending: string,
    form?: URLSearchParams,
  ): Promise<{ identity: Identity; tokens: UpstreamTokens; auth: UpstreamAuth }> {
    const store = this.#needStore();
    const p = PendingSchema.parse(JSON.parse(pending));
    const encoded = form?.get("SAMLResponse");
    if (!encoded) throw this.#refused("no SAMLResponse was posted");
    // One use: the request id is taken before anything else, so a second answer to it (a replay) finds nothing.
    if (!(await store.delete(this.#requestKey(p.requestId))))
      throw this.#refused("InResponseTo names no pending request of this SP (used or expired)");
    const profile = await this.#validate(encoded, p.requestId);
    const responseXml = Buffer.from(encoded, "base64").toString("utf8");
    const md = await this.#metadata.get();
    const response = await readResponse(responseXml).catch((err: Error) => {
      throw this.#refused(err.message);
    });
    const assertion = await readAssertion(profile.getAssertionXml?.() ?? "").catch((err: Error) => {
      throw this.#refused(err.message);
    });
    const now = this.#now();
    const skewMs = this.#c.clockSkewSeconds * 1000;
    const why = refusal(response, assertion, {
      acsUrl: this.acsUrl,
      audience: this.entityId,
      issuer: md.entityId,
      requestId: p.requestId,
      now,
      skewMs,
    });
    if (why) throw this.#refused(why);
    const ttlMs = Math.max(assertionEnd(assertion) - now + skewMs, 1_000);
    if (!(await store.setIfAbsent(`saml:assertion:${this.id}:${assertion.id}`, "1", { ttlMs })))
      throw this.#refused(`assertion ${assertion.id} was already used (replay)`);
    const identity = samlIdentity(this.id, this.#c.attributes, assertion);
    if (!identity) throw this.#refused(`the assertion has no ${this.#c.attributes.id}`);
    const hint = LogoutHintSchema.parse({
      nameID: profile.nameID,
      nameIDFormat: profile.nameIDFormat,
      ...(profile.nameQualifier ? { nameQualifier: profile.nameQualifier } : {}),
      ...(profile.spNameQualifier ? { spNameQualifier: profile.spNameQualifier } : {}),
      ...(assertion.sessionIndex ? { sessionIndex: assertion.sessionIndex } : {}),
    });
    return {
      identity,
      tokens: { idToken: JSON.stringify(hint), ...(assertion.sessionIndex ? { sid: assertion.sessionIndex } : {}) },
      auth: {
        amr: upstreamAmr(undefined, assertion.authnContext, this.#c.strongAuthnContexts),
        ...(assertion.authnContext ? { acr: assertion.authnContext } : {}),
      },
    };
  }

  /** SAML has no refresh: the person signs in again when the session ends. */
  async refresh(): Promise<null> {
    return null;
  }

  /**
   * A signed LogoutRequest to the IdP's SLO endpoint (HTTP-Redirect) for the session the hint names, or null when
   * the IdP has none or Archway has no key to sign it with (IdPs refuse unsigned logout requests).
   */
  async logoutUrl(opts: { idToken?: string }): Promise<string | null> {
    if (!opts.idToken || !this.#c.sp.privateKey) return null;
    const md = await this.#metadata.get();
    if (!md.slo.redirect) return null;
    const hint = LogoutHintSchema.safeParse(JSON.parse(opts.idToken));
    if (!hint.success) return null;
    const saml = this.#saml(md, this.#storeCache("logout"), { entryPoint: md.slo.redirect, post: false });
    return saml.getLogoutUrlAsync({ issuer: md.entityId, ...hint.data } as Profile, "", {});
  }

  async frontChannelLogout(request: { url: URL; form?: URLSearchParams }): Promise<FrontChannelLogout> {
    const store = this.#needStore();
    const md = await this.#metadata.get();
    if (!md.slo.redirect && !md.slo.post) throw this.#logoutRefused("the IdP lists no SingleLogoutService");
    const saml = this.#saml(md, this.#storeCache("logout"), {
      entryPoint: (md.slo.redirect ?? md.slo.post) as string,
      post: false,
    });
    let result: { profile: Profile | null; loggedOut: boolean };
    try {
      const message = request.form
        ? (request.form.get("SAMLRequest") ?? request.form.get("SAMLResponse"))
        : (request.url.searchParams.get("SAMLRequest") ?? request.url.searchParams.get("SAMLResponse"));
      if (!message) throw new Error("no SAMLRequest or SAMLResponse");
      const facts = await readLogoutMessage(message, request.form ? "post" : "redirect");
      const misaddressed = logoutDestinationProblem(facts, this.sloUrl);
      if (misaddressed) throw new Error(misaddressed);
      if (request.form) {
        const fields = Object.fromEntries(request.form);
        result = fields.SAMLRequest
          ? await saml.validatePostRequestAsync(fields)
          : await saml.validatePostResponseAsync(fields);
      } else {
        const query = Object.fromEntries(request.url.searchParams);
        // node-saml accepts a redirect-bound message without any signature: refuse it here.
        if (!query.Signature || !query.SigAlg) throw new Error("the logout message is not signed");
        result = await saml.validateRedirectAsync(query, request.url.search.slice(1));
      }
    } catch (err) {
      throw this.#logoutRefused((err as Error).message);
    }
    const profile = result.profile;
    if (!profile) return {}; // the IdP's answer to Archway's own logout request
    const requestId = typeof profile.ID === "string" ? profile.ID : "";
    if (
      !requestId ||
      !(await store.setIfAbsent(`saml:logout:${this.id}:seen:${requestId}`, "1", { ttlMs: REQUEST_TTL_MS }))
    )
      throw this.#logoutRefused("the logout request has no ID or was already used");
    const personId = this.#c.attributes.id === NAME_ID && profile.nameID ? `${this.id}:${profile.nameID}` : undefined;
    const relayState = (request.form ?? request.url.searchParams).get("RelayState") ?? "";
    const redirect = md.slo.redirect ? await saml.getLogoutResponseUrlAsync(profile, relayState, {}, true) : undefined;
    return {
      ended: { ...(personId ? { personId } : {}), ...(profile.sessionIndex ? { sid: profile.sessionIndex } : {}) },
      ...(redirect ? { redirect } : {}),
    };
  }

  async metadata(): Promise<{ contentType: string; body: string }> {
    const sp = this.#c.sp;
    const body = generateServiceProviderMetadata({
      issuer: this.entityId,
      callbackUrl: this.acsUrl,
      logoutCallbackUrl: this.sloUrl,
      identifierFormat: this.#c.nameIdFormat,
      wantAssertionsSigned: this.#c.signed !== "response",
      ...(sp.privateKey && sp.certificate
        ? { privateKey: sp.privateKey, publicCerts: sp.certificate, signatureAlgorithm: "sha256" as const }
        : {}),
      ...(sp.decryptionKey && sp.decryptionCertificate
        ? { decryptionPvk: sp.decryptionKey, decryptionCert: sp.decryptionCertificate }
        : {}),
    });
    return { contentType: "application/samlmetadata+xml", body };
  }

  async ping(): Promise<void> {
    await this.#metadata.refresh();
  }

  async close(): Promise<void> {
    await this.#metadata.close();
  }

  /** node-saml's checks of signatures, InResponseTo (against this round trip's request only) and times. */
  async #validate(encoded: string, requestId: string): Promise<Profile> {
    const once: CacheProvider = {
      saveAsync: async () => null,
      getAsync: async (key) => (key === requestId ? new Date(this.#now()).toISOString() : null),
      removeAsync: async () => null,
    };
    const attempt = async (md: IdpMetadata) => {
      const saml = this.#saml(md, once, { entryPoint: (md.sso.redirect ?? md.sso.post) as string, post: false });
      const { profile } = await saml.validatePostResponseAsync({ SAMLResponse: encoded });
      if (!profile) throw new Error("the response carries no assertion");
      return profile;
    };
    try {
      return await attempt(await this.#metadata.get());
    } catch (err) {
      const message = (err as Error).message;
      // A signature no listed certificate verifies: the IdP may have rolled its key over since the last read.
      if (/signature/i.test(message) && this.#metadata.age() > ROLLOVER_RECHECK_MS) {
        const fresh = await this.#metadata.refresh().catch(() => undefined);
        if (fresh) return attempt(fresh).catch((again: Error) => Promise.reject(this.#refused(again.message)));
      }
      throw this.#refused(message);
    }
  }

  #saml(md: IdpMetadata, cacheProvider: CacheProvider, opts: { entryPoint: string; post: boolean }): SAML {
    const sp = this.#c.sp;
    const config: SamlConfig = {
      issuer: this.entityId,
      callbackUrl: this.acsUrl,
      logoutCallbackUrl: this.sloUrl,
      audience: this.entityId,
      idpIssuer: md.entityId,
      idpCert: md.signingCerts.map(pem),
      entryPoint: opts.entryPoint,
      logoutUrl: md.slo.redirect ?? opts.entryPoint,
      authnRequestBinding: opts.post ? "HTTP-POST" : "HTTP-Redirect",
      // The HTTP-POST binding carries the request as plain base64 XML (only the redirect binding deflates it).
      skipRequestCompression: opts.post,
      identifierFormat: this.#c.nameIdFormat,
      forceAuthn: this.#c.forceAuthn,
      wantAssertionsSigned: this.#c.signed === "assertion" || this.#c.signed === "both",
      wantAuthnResponseSigned: this.#c.signed === "response" || this.#c.signed === "both",
      validateInResponseTo: ValidateInResponseTo.always,
      requestIdExpirationPeriodMs: REQUEST_TTL_MS,
      acceptedClockSkewMs: this.#c.clockSkewSeconds * 1000,
      cacheProvider,
      signatureAlgorithm: "sha256",
      digestAlgorithm: "sha256",
      disableRequestedAuthnContext: true,
      ...(sp.privateKey ? { privateKey: sp.privateKey, publicCert: sp.certificate } : {}),
      ...(sp.decryptionKey ? { decryptionPvk: sp.decryptionKey } : {}),
    };
    return new SAML(config);
  }

  /** Request ids of logout messages Archway sends, kept in the store for the IdP's answer. */
  #storeCache(kind: string): CacheProvider {
    const store = this.#needStore();
    const key = (id: string | null) => `saml:${kind}:${this.id}:${id ?? ""}`;
    return {
      saveAsync: async (id, value) => {
        await store.set(key(id), value, { ttlMs: REQUEST_TTL_MS });
        return { value, createdAt: this.#now() };
      },
      getAsync: (id) => store.get(key(id)),
      removeAsync: async (id) => ((await store.delete(key(id))) ? id : null),
    };
  }

  #requestKey(requestId: string): string {
    return `saml:request:${this.id}:${requestId}`;
  }

  #base(): string {
    if (!this.#publicUrl)
      throw new ArchwayError("config_invalid", `identity source ${this.id}: SAML needs Archway's publicUrl`, 500);
    return `${this.#publicUrl}/login/sso/${encodeURIComponent(this.id)}`;
  }

  #needStore(): Store {
    if (!this.#store)
      throw new ArchwayError("config_invalid", `identity source ${this.id}: SAML sign-in needs the store`, 500);
    return this.#store;
  }

  #refused(why: string): ArchwayError {
    return new ArchwayError("login_failed", `identity source ${this.id}: SAML response refused (${why})`, 401);
  }

  #logoutRefused(why: string): ArchwayError {
    return new ArchwayError("logout_refused", `identity source ${this.id}: SAML logout refused (${why})`, 400);
  }
}

/** A base64 DER certificate from metadata as PEM. */
function pem(der: string): string {
  return `-----BEGIN CERTIFICATE-----\n${der.match(/.{1,64}/g)?.join("\n") ?? der}\n-----END CERTIFICATE-----\n`;
}

/**
 * Origins the sign-in and sign-out forms may be sent or redirected to: the metadata URL's origin, or every origin
 * a metadata file names (its SSO and SLO endpoints).
 */
function idpOrigins(config: SamlSourceConfig): string[] {
  if (config.idp.metadataUrl) return [new URL(config.idp.metadataUrl).origin];
  const text = readFileSync(config.idp.metadataFile as string, "utf8");
  const origins = new Set<string>();
  for (const m of text.matchAll(/Location="(https?:\/\/[^"]+)"/g)) origins.add(new URL(m[1] as string).origin);
  return [...origins];
}
