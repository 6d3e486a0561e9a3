import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { providerFixture } from "./provider-fixture.js";

type Fixture = ReturnType<typeof providerFixture>;
type Browser = ReturnType<Fixture["browser"]>;
interface Tokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  scope: string;
  error?: string;
}

const CLIENTS: Record<string, { secret: string; redirect: string }> = {
  "web-app": { secret: "web-secret", redirect: "https://dashboard.test/callback" },
  "session-app": { secret: "session-secret", redirect: "https://session.test/callback" },
};

async function tokenRequest(f: Fixture, form: Record<string, string>) {
  const res = await f.app.request("/oauth2/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Tokens };
}

const VERIFIER = randomBytes(32).toString("base64url");
/** PKCE (S256) parameters of an authorization request, with {@link VERIFIER}. */
const PKCE = {
  code_challenge: createHash("sha256").update(VERIFIER).digest("base64url"),
  code_challenge_method: "S256",
};

/** Signs `browser` through the authorization code flow of `clientId` and redeems the code. */
async function codeFlow(f: Fixture, browser: Browser, clientId: string, scope: string) {
  const client = CLIENTS[clientId] as { secret: string; redirect: string };
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: client.redirect,
    response_type: "code",
    scope,
    ...PKCE,
  });
  const res = await browser.request(`/oauth2/authorize?${q}`);
  expect(res.status).toBe(303);
  const code = new URL(res.headers.get("location") ?? "").searchParams.get("code");
  expect(code).toBeTruthy();
  const tokens = await tokenRequest(f, {
    grant_type: "authorization_code",
    code: code as string,
    redirect_uri: client.redirect,
    client_id: clientId,
    client_secret: client.secret,
    code_verifier: VERIFIER,
  });
  expect(tokens.status).toBe(200);
  return tokens.body;
}

const refresh = (f: Fixture, clientId: string, token: string, extra: Record<string, string> = {}) =>
  tokenRequest(f, {
    grant_type: "refresh_token",
    refresh_token: token,
    client_id: clientId,
    client_secret: (CLIENTS[clientId] as { secret: string }).secret,
    ...extra,
  });

/** RP-initiated logout with the ID token as hint: ends the browser's session at once. */
async function signOut(browser: Browser, idToken: string) {
  const res = await browser.request(`/oauth2/logout?id_token_hint=${encodeURIComponent(idToken)}`);
  expect(res.status).toBe(200);
  expect(await browser.whoami()).toBe("nobody");
}

describe("grants hang off the sign-in session", () => {
  it("gives no refresh token without offline_access", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const tokens = await codeFlow(f, alice, "web-app", "openid profile");
    expect(tokens.refresh_token).toBeUndefined();
  });

  it("refuses a session-bound refresh token, the session's access token and an unredeemed code after sign-out", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const tokens = await codeFlow(f, alice, "session-app", "openid");
    expect(tokens.refresh_token).toBeTruthy();
    const q = new URLSearchParams({
      client_id: "web-app",
      redirect_uri: "https://dashboard.test/callback",
      response_type: "code",
      scope: "openid",
      ...PKCE,
    });
    const pending = new URL((await alice.request(`/oauth2/authorize?${q}`)).headers.get("location") ?? "");
    await signOut(alice, tokens.id_token as string);

    const refused = await refresh(f, "session-app", tokens.refresh_token as string);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_grant");
    const userinfo = await f.app.request("/oauth2/userinfo", {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(userinfo.status).toBe(401);
    const late = await tokenRequest(f, {
      grant_type: "authorization_code",
      code: pending.searchParams.get("code") as string,
      redirect_uri: "https://dashboard.test/callback",
      client_id: "web-app",
      client_secret: "web-secret",
      code_verifier: VERIFIER,
    });
    expect(late.body.error).toBe("invalid_grant");
  });

  it("keeps offline_access refresh tokens across sign-out, lists them, and ends them when the person revokes", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const tokens = await codeFlow(f, alice, "web-app", "openid offline_access");
    expect(tokens.refresh_token).toBeTruthy();
    await signOut(alice, tokens.id_token as string);

    const next = await refresh(f, "web-app", tokens.refresh_token as string);
    expect(next.status).toBe(200);
    const listed = await f.deps.sessions.listFor("demo:alice");
    expect(listed.map((s) => [s.kind, s.clientId])).toEqual([["offline", "web-app"]]);
    // The access token of the offline session works while it lives.
    const ok = await f.app.request("/oauth2/userinfo", {
      headers: { authorization: `Bearer ${next.body.access_token}` },
    });
    expect(ok.status).toBe(200);

    await f.deps.sessions.end((listed[0] as { sid: string }).sid, "ended by the person");
    expect((await refresh(f, "web-app", next.body.refresh_token as string)).body.error).toBe("invalid_grant");
    const gone = await f.app.request("/oauth2/userinfo", {
      headers: { authorization: `Bearer ${next.body.access_token}` },
    });
    expect(gone.status).toBe(401);
  });

  it("refuses a refresh that widens the scope without spending the refresh token", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const tokens = await codeFlow(f, alice, "web-app", "openid offline_access");
    const wider = await refresh(f, "web-app", tokens.refresh_token as string, { scope: "openid offline_access email" });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe("invalid_scope");
    const same = await refresh(f, "web-app", tokens.refresh_token as string);
    expect(same.status).toBe(200);
    const narrower = await refresh(f, "web-app", same.body.refresh_token as string, { scope: "openid" });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe("openid");
  });

  it("asks for a new sign-in on prompt=login and max_age=0 without ending the current session first", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const before = await codeFlow(f, alice, "web-app", "openid");
    for (const extra of [{ prompt: "login" }, { max_age: "0" }] as Record<string, string>[]) {
      f.clock.advance(2_000);
      const q = new URLSearchParams({
        client_id: "web-app",
        redirect_uri: "https://dashboard.test/callback",
        response_type: "code",
        scope: "openid",
        ...PKCE,
        ...extra,
      });
      const res = await alice.request(`/oauth2/authorize?${q}`);
      expect(res.status).toBe(303);
      const to = new URL(res.headers.get("location") ?? "", "https://archway.test");
      expect(to.pathname).toBe("/login");
      expect(to.searchParams.get("prompt")).toBe("login");
      expect(to.searchParams.get("return_to")).not.toMatch(/prompt|max_age/);
      // Still signed in, and the session's tokens still work until a new sign-in succeeds.
      expect(await alice.whoami()).toBe("alice");
      const info = await f.app.request("/oauth2/userinfo", {
        headers: { authorization: `Bearer ${before.access_token}` },
      });
      expect(info.status).toBe(200);
    }
    // The same person signing in again keeps the login session.
    await alice.signIn("alice");
    expect((await f.deps.sessions.listFor("demo:alice")).length).toBe(1);
    // Someone else signing in on this browser ends alice's session.
    await alice.signIn("bob");
    expect(await f.deps.sessions.listFor("demo:alice")).toEqual([]);
  });
});

describe("userinfo and introspection tell only what they should", () => {
  it("releases only the claims of the granted scopes", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const info = async (scope: string) => {
      const t = await codeFlow(f, alice, "web-app", scope);
      const res = await f.app.request("/oauth2/userinfo", { headers: { authorization: `Bearer ${t.access_token}` } });
      return (await res.json()) as Record<string, unknown>;
    };
    expect(await info("openid")).toEqual({ sub: "demo:alice" });
    expect(await info("openid email")).toEqual({ sub: "demo:alice", email: "alice@example.org" });
    const full = await info("openid profile email groups");
    expect(full).toMatchObject({ sub: "demo:alice", preferred_username: "alice", email: "alice@example.org" });
    expect(full.groups).toEqual([]);
  });

  it("answers only the token's client and its resource servers; others learn nothing", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.1");
    await alice.signIn("alice");
    const t = await codeFlow(f, alice, "web-app", "openid offline_access");
    const introspect = async (clientId: string, secret: string, token: string) => {
      const res = await f.app.request("/oauth2/introspect", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token, client_id: clientId, client_secret: secret }).toString(),
      });
      return (await res.json()) as { active: boolean; sub?: string };
    };
    for (const token of [t.access_token, t.refresh_token as string]) {
      expect(await introspect("web-app", "web-secret", token)).toMatchObject({ active: true, sub: "demo:alice" });
      expect(await introspect("resource-server", "rs-secret", token)).toMatchObject({ active: true });
      expect(await introspect("other-app", "other-secret", token)).toEqual({ active: false });
    }
  });
});
