import { Hono } from "hono";
import type { AuditEvent } from "../../../src/audit/index.js";
import { IdpConfigSchema } from "../../../src/config/index.js";
import type { AppEnv, RequestInfo } from "../../../src/http/env.js";
import type { OidcProviderDeps } from "../../../src/http/oidc/deps.js";
import { oidcProvider } from "../../../src/http/oidc-provider.js";
import { WebSessions } from "../../../src/http/web/index.js";
import { IdentitySchema, LoginGuard } from "../../../src/identity/index.js";
import { createLogger } from "../../../src/log/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import {
  AuthorizationCodes,
  DeviceCodes,
  IdentitySessions,
  KeyRing,
  OAuthClients,
  OidcTokenIssuer,
  RefreshTokens,
  TokenService,
} from "../../../src/tokens/index.js";

export const ISSUER = "https://archway.test";
export const WEB_APP = { id: "web-app", name: "Dashboard", logoutUri: "https://dashboard.test/bye" };
/** A confidential client whose configuration lets it go without PKCE (`pkce: optional`). */
export const LEGACY_APP = { id: "legacy-app", redirectUri: "https://legacy.test/callback" };
const HOUR = 3_600_000;
const log = createLogger({ level: "silent" });

/**
 * The OpenID Provider's routes over an in-memory store, with a test-only `POST /test/sign-in/:username` that starts
 * a browser session and `GET /test/whoami` that reads it back.
 */
export function providerFixture() {
  let now = Date.now();
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const events: AuditEvent[] = [];
  const audit = async (event: AuditEvent) => {
    events.push(event);
  };
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 24 * HOUR, overlapMs: HOUR, now: clock.now });
  const sessions = new IdentitySessions({ store, absoluteMs: 12 * HOUR, idleMs: 2 * HOUR, now: clock.now, audit });
  const tokens = new TokenService({ store, keys, issuer: ISSUER, now: clock.now, sessions });
  const config = IdpConfigSchema.parse({
    clients: [
      {
        id: WEB_APP.id,
        name: WEB_APP.name,
        secret: "web-secret",
        redirectUris: ["https://dashboard.test/callback"],
        postLogoutRedirectUris: [WEB_APP.logoutUri],
      },
      { id: "device-cli", public: true, grants: ["urn:ietf:params:oauth:grant-type:device_code"] },
      {
        id: "session-app",
        secret: "session-secret",
        redirectUris: ["https://session.test/callback"],
        sessionRefreshTokens: true,
      },
      { id: "other-app", secret: "other-secret", grants: ["client_credentials"] },
      { id: "resource-server", secret: "rs-secret", grants: ["client_credentials"], introspects: ["web-app"] },
      {
        id: LEGACY_APP.id,
        secret: "legacy-secret",
        redirectUris: [LEGACY_APP.redirectUri],
        pkce: "optional",
      },
    ],
  });
  const web = new WebSessions({
    store,
    key: "unit-test-session-key",
    ttlMs: HOUR,
    secure: false,
    now: clock.now,
    sessions,
  });
  const issue = new OidcTokenIssuer({
    tokens,
    clouds: [],
    policies: () => {
      throw new Error("these tests issue no access tokens");
    },
    accessTokenTtlSeconds: 300,
    idTokenTtlSeconds: 300,
  });
  const deps: OidcProviderDeps = {
    issuer: ISSUER,
    config,
    clients: new OAuthClients(config.clients, { store, audit, limits: config.clientAuthentication }),
    issue,
    tokens,
    codes: new AuthorizationCodes(store, 60_000),
    refresh: new RefreshTokens(store, HOUR, clock.now),
    devices: new DeviceCodes(store, 600_000, 5_000, clock.now),
    algorithms: ["ES256"],
    guard: new LoginGuard({ store, audit }),
    passwordSources: [],
    relookup: async () => undefined,
    sessions,
    web,
    store,
    audit,
  };
  const identity = (username: string) =>
    IdentitySchema.parse({ id: `demo:${username}`, source: "demo", username, email: `${username}@example.org` });
  const app = new Hono<AppEnv>();
  app.post("/test/sign-in/:username", async (c) => {
    // `?amr=pwd,otp,mfa`: how the person signed in (a second step passed, an upstream's report).
    const amr = c.req.query("amr");
    await web.start(c, identity(c.req.param("username")), undefined, amr ? { amr: amr.split(",") } : undefined);
    return c.text("signed in");
  });
  app.get("/test/whoami", async (c) => c.text((await web.read(c))?.identity.username ?? "nobody"));
  app.route("/", oidcProvider(deps));

  /** A browser: keeps its cookies and always comes from `clientIp`. */
  const browser = (clientIp: string) => {
    const jar = new Map<string, string>();
    const request = async (path: string, form?: Record<string, string>) => {
      const headers = new Headers();
      if (jar.size > 0) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
      if (form) headers.set("content-type", "application/x-www-form-urlencoded");
      const requestInfo: RequestInfo = { id: "test", clientIp, rootLog: log };
      const res = await app.request(
        `${ISSUER}${path}`,
        { method: form ? "POST" : "GET", headers, body: form ? new URLSearchParams(form).toString() : undefined },
        { requestInfo },
      );
      for (const cookie of res.headers.getSetCookie()) {
        const [pair = ""] = cookie.split(";");
        const eq = pair.indexOf("=");
        if (/max-age=0/i.test(cookie) || pair.slice(eq + 1) === "") jar.delete(pair.slice(0, eq));
        else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      return { status: res.status, headers: res.headers, html: await res.text() };
    };
    return {
      request,
      async signIn(username: string, amr?: string) {
        await request(`/test/sign-in/${username}${amr ? `?amr=${amr}` : ""}`, {});
      },
      async whoami() {
        return (await request("/test/whoami")).html;
      },
      /** The hidden fields of the first form posting to `action`. */
      hiddenFields(html: string, action: string): Record<string, string> {
        const form = html.match(new RegExp(`<form[^>]*action="${action}"[^>]*>([\\s\\S]*?)</form>`))?.[1];
        if (form === undefined) throw new Error(`no form posting to ${action}: ${html.slice(0, 300)}`);
        const fields: Record<string, string> = {};
        for (const m of form.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
          fields[m[1] as string] = (m[2] as string).replaceAll("&amp;", "&");
        return fields;
      },
    };
  };

  /** An ID token for `username` issued to the web app. */
  const idToken = async (username: string) =>
    (await issue.idToken({ clientId: WEB_APP.id, identity: identity(username), scope: ["openid"], authTime: 0 })).token;

  return { app, deps, clock, events, browser, idToken };
}
