import { createHash } from "node:crypto";
import { SignJWT, UnsecuredJWT } from "jose";
import * as oidc from "openid-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEndpoints } from "../../env/endpoints.js";
import { TestBrowser } from "../../helpers/browser.js";
import { CLIENTS, cleanFederatedCloud, type IdpHarness, PEOPLE, runDomain, startIdp } from "./harness.js";

// openid-client (a real relying party) and raw requests against Archway's OpenID Provider.
const env = loadEndpoints();
const domain = runDomain();
let h: IdpHarness;
let rp: oidc.Configuration;
const { web, spa } = CLIENTS;

const POLICY =
  "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  clouds: { names: [fed-1] }\n  grants: [{ project: shared, roles: [member], create: true }]\n  keys: false\n";

const tlsFetch: oidc.CustomFetch = (url, options) =>
  fetch(url, { ...options, dispatcher: h.dispatcher } as RequestInit) as ReturnType<oidc.CustomFetch>;

async function post(path: string, form: Record<string, string>, basic?: { id: string; secret: string }) {
  const res = await fetch(`${h.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(basic ? { authorization: `Basic ${Buffer.from(`${basic.id}:${basic.secret}`).toString("base64")}` } : {}),
    },
    body: new URLSearchParams(form),
    dispatcher: h.dispatcher,
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, string> };
}

async function userinfo(token: string) {
  const res = await fetch(`${h.url}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${token}` },
    dispatcher: h.dispatcher,
  } as RequestInit);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Signs in as `who` in a fresh browser and returns the callback URL of an authorization request. */
async function authorize(params: Record<string, string>, who: keyof typeof PEOPLE = "alice") {
  const browser = new TestBrowser(h.dispatcher);
  const url = new URL(`${h.url}/oauth2/authorize`);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const login = await browser.follow(url.href, params.redirect_uri);
  if (login.location) return { browser, callback: new URL(login.location) };
  const back = await browser.submit(
    login,
    /\/login\/password/,
    { username: who, password: PEOPLE[who].password },
    params.redirect_uri,
  );
  if (!back.location) throw new Error(`no redirect after sign-in: HTTP ${back.status} ${back.html.slice(0, 200)}`);
  return { browser, callback: new URL(back.location) };
}

const pkce = () => {
  const verifier = oidc.randomPKCECodeVerifier();
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
};

beforeAll(async () => {
  for (const k of env.federation.keystones) await cleanFederatedCloud(k.id, k.authUrl);
  h = await startIdp({ domain, policies: { "devs.yaml": POLICY } });
  rp = await oidc.discovery(new URL(h.url), web.id, web.secret, undefined, { [oidc.customFetch]: tlsFetch });
}, 120_000);

afterAll(async () => {
  await h?.stop();
  for (const k of env.federation.keystones) await cleanFederatedCloud(k.id, k.authUrl, domain);
});

describe("openid-client as a relying party", () => {
  it("completes authorization code + PKCE, refreshes with rotation, reads userinfo, and is refused after revocation", async () => {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: web.redirectUri,
      scope: "openid profile email groups offline_access",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    const browser = new TestBrowser(h.dispatcher);
    const login = await browser.follow(url.href, web.redirectUri);
    expect(new URL(login.url).pathname).toBe("/login");
    const back = await browser.submit(
      login,
      /\/login\/password/,
      { username: "alice", password: PEOPLE.alice.password },
      web.redirectUri,
    );
    const tokens = await oidc.authorizationCodeGrant(rp, new URL(back.location as string), {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    const claims = tokens.claims();
    if (!claims) throw new Error("no ID token");
    expect(claims).toMatchObject({ iss: h.url, aud: web.id, preferred_username: "alice", email: "alice@example.org" });
    // The access token is for fed-1 (the client's cloud), with the groups its mapping expects.
    const access = JSON.parse(
      Buffer.from(tokens.access_token.split(".")[1] as string, "base64url").toString(),
    ) as Record<string, unknown>;
    expect(access).toMatchObject({
      aud: env.federation.keystones[0]?.authUrl,
      groups: ["shared:member"],
      client_id: web.id,
    });
    const info = await oidc.fetchUserInfo(rp, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, preferred_username: "alice", groups: ["shared:member"] });

    const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token as string);
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    await oidc.tokenRevocation(rp, refreshed.refresh_token as string);
    await expect(oidc.refreshTokenGrant(rp, refreshed.refresh_token as string)).rejects.toMatchObject({
      error: "invalid_grant",
    });
    // Sign-in persists in the browser: a second authorization needs no password.
    const again = await browser.follow(url.href, web.redirectUri);
    expect(again.location).toContain("code=");
    // prompt=login asks for the password again even so, then comes back with a code.
    const forced = new URL(url.href);
    forced.searchParams.set("prompt", "login");
    const relogin = await browser.follow(forced.href, web.redirectUri);
    expect(new URL(relogin.url).pathname).toBe("/login");
    const after = await browser.submit(
      relogin,
      /\/login\/password/,
      { username: "alice", password: PEOPLE.alice.password },
      web.redirectUri,
    );
    expect(after.location).toContain("code=");
  });

  it("a refresh token reused after rotation revokes the whole family", async () => {
    const { verifier, challenge } = pkce();
    const { callback } = await authorize({
      client_id: web.id,
      redirect_uri: web.redirectUri,
      response_type: "code",
      scope: "openid offline_access",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const tokens = await oidc.authorizationCodeGrant(rp, callback, {
      pkceCodeVerifier: verifier,
      idTokenExpected: true,
    });
    const first = tokens.refresh_token as string;
    const second = (await oidc.refreshTokenGrant(rp, first)).refresh_token as string;
    await expect(oidc.refreshTokenGrant(rp, first)).rejects.toMatchObject({ error: "invalid_grant" });
    // The legitimate holder's newer token went with the family.
    await expect(oidc.refreshTokenGrant(rp, second)).rejects.toMatchObject({ error: "invalid_grant" });
  });

  it("a public client signs in with PKCE and no secret", async () => {
    const { verifier, challenge } = pkce();
    const { callback } = await authorize({
      client_id: spa.id,
      redirect_uri: spa.redirectUri,
      response_type: "code",
      scope: "openid profile",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const res = await post("/oauth2/token", {
      grant_type: "authorization_code",
      client_id: spa.id,
      code: callback.searchParams.get("code") as string,
      redirect_uri: spa.redirectUri,
      code_verifier: verifier,
    });
    expect(res.status).toBe(200);
    expect(res.body.id_token).toBeDefined();
    expect(callback.searchParams.get("iss")).toBe(h.url);
  });
});

describe("refusals, each with the right OAuth error", () => {
  const codeFlow = async () => {
    const { verifier, challenge } = pkce();
    const { callback } = await authorize({
      client_id: web.id,
      redirect_uri: web.redirectUri,
      response_type: "code",
      scope: "openid offline_access",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s-1",
    });
    expect(callback.searchParams.get("state")).toBe("s-1");
    return { verifier, code: callback.searchParams.get("code") as string };
  };
  const redeem = (code: string, extra: Record<string, string>) =>
    post("/oauth2/token", { grant_type: "authorization_code", code, redirect_uri: web.redirectUri, ...extra }, web);

  it("a replayed code is refused, and the tokens of its first use are revoked", async () => {
    const { verifier, code } = await codeFlow();
    const first = await redeem(code, { code_verifier: verifier });
    expect(first.status).toBe(200);
    expect((await userinfo(first.body.access_token as string)).status).toBe(200);
    const replay = await redeem(code, { code_verifier: verifier });
    expect(replay).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    expect((await userinfo(first.body.access_token as string)).status).toBe(401);
    const refresh = await post(
      "/oauth2/token",
      { grant_type: "refresh_token", refresh_token: first.body.refresh_token as string },
      web,
    );
    expect(refresh.body.error).toBe("invalid_grant");
  });

  it("a missing or wrong PKCE verifier", async () => {
    const a = await codeFlow();
    expect(await redeem(a.code, {})).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    const b = await codeFlow();
    expect(await redeem(b.code, { code_verifier: pkce().verifier })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });
  });

  it("plain PKCE, and a public client without PKCE, are refused back at the client", async () => {
    const plain = await authorize({
      client_id: web.id,
      redirect_uri: web.redirectUri,
      response_type: "code",
      code_challenge: "x".repeat(43),
      code_challenge_method: "plain",
      state: "p",
    });
    expect(Object.fromEntries(plain.callback.searchParams)).toMatchObject({ error: "invalid_request", state: "p" });
    const none = await authorize({ client_id: spa.id, redirect_uri: spa.redirectUri, response_type: "code" });
    expect(none.callback.searchParams.get("error")).toBe("invalid_request");
  });

  it("a redirect_uri mismatch, or an unknown client, is shown and never redirected", async () => {
    const browser = new TestBrowser(h.dispatcher);
    const evil = await browser.request(
      `${h.url}/oauth2/authorize?client_id=${web.id}&response_type=code&redirect_uri=${encodeURIComponent("https://evil.example/cb")}`,
    );
    expect(evil.status).toBe(400);
    expect(evil.location).toBeUndefined();
    const unknown = await browser.request(
      `${h.url}/oauth2/authorize?client_id=nobody&response_type=code&redirect_uri=${encodeURIComponent(web.redirectUri)}`,
    );
    expect(unknown.status).toBe(400);
    expect(unknown.location).toBeUndefined();
    // And a redirect_uri at the token endpoint that differs from the request's.
    const { verifier, code } = await codeFlow();
    const res = await post(
      "/oauth2/token",
      { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: "http://127.0.0.1:18999/other" },
      web,
    );
    expect(res.body.error).toBe("invalid_grant");
  });

  it("prompt=none without a session comes back with login_required", async () => {
    const browser = new TestBrowser(h.dispatcher);
    const page = await browser.request(
      `${h.url}/oauth2/authorize?client_id=${web.id}&response_type=code&prompt=none&state=n&redirect_uri=${encodeURIComponent(web.redirectUri)}&code_challenge=${pkce().challenge}&code_challenge_method=S256`,
    );
    expect(Object.fromEntries(new URL(page.location as string).searchParams)).toMatchObject({
      error: "login_required",
      state: "n",
      iss: h.url,
    });
  });

  it("an unknown client and a wrong client secret", async () => {
    expect(
      await post("/oauth2/token", { grant_type: "client_credentials" }, { id: "nobody", secret: "x" }),
    ).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(
      await post("/oauth2/token", { grant_type: "client_credentials" }, { id: CLIENTS.service.id, secret: "wrong" }),
    ).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    const ok = await post("/oauth2/token", { grant_type: "client_credentials" }, CLIENTS.service);
    expect(ok.status).toBe(200);
    expect(
      await post(
        "/oauth2/token",
        { grant_type: "password", username: "alice", password: PEOPLE.alice.password },
        CLIENTS.service,
      ),
    ).toMatchObject({ status: 400, body: { error: "unauthorized_client" } });
  });

  it("alg none, HS256 keyed with the public key, expired, not yet valid and wrong-audience tokens", async () => {
    const key = await h.runtime.keys.signingKey();
    const jwk = (await h.runtime.keys.jwks()).keys[0];
    const base = { sub: "demo:alice", preferred_username: "alice", jti: crypto.randomUUID(), client_id: web.id };
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>, aud: string) =>
      new SignJWT({ ...base, ...claims })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt" })
        .setIssuer(h.url)
        .setAudience(aud)
        .sign(key.privateKey);
    const none = new UnsecuredJWT({ ...base, iat: now, exp: now + 300 }).setIssuer(h.url).setAudience(h.url).encode();
    const hs256 = await new SignJWT({ ...base, iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: "HS256", kid: key.kid, typ: "at+jwt" })
      .setIssuer(h.url)
      .setAudience(h.url)
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    const expired = await sign({ iat: now - 3600, nbf: now - 3600, exp: now - 600 }, h.url);
    const future = await sign({ iat: now, nbf: now + 3600, exp: now + 7200 }, h.url);
    const wrongAud = await sign({ iat: now, exp: now + 300 }, "https://somebody-else.example");
    const good = await sign({ iat: now, exp: now + 300 }, h.url);
    for (const bad of [none, hs256, expired, future, wrongAud]) {
      const res = await userinfo(bad);
      expect(res).toMatchObject({ status: 401, body: { error: "invalid_token" } });
      expect((await post("/oauth2/introspect", { token: bad }, web)).body).toEqual({ active: false });
    }
    expect((await userinfo(good)).status).toBe(200);
    expect((await post("/oauth2/introspect", { token: good }, web)).body).toMatchObject({
      active: true,
      sub: "demo:alice",
    });
  });
});

describe("other grants and endpoints", () => {
  it("client credentials: a token for the client itself, for its cloud's audience", async () => {
    const res = await post("/oauth2/token", { grant_type: "client_credentials" }, CLIENTS.service);
    const claims = JSON.parse(
      Buffer.from((res.body.access_token as string).split(".")[1] as string, "base64url").toString(),
    ) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: CLIENTS.service.id,
      client_id: CLIENTS.service.id,
      aud: env.federation.keystones[0]?.authUrl,
    });
    expect(claims.groups).toBeUndefined();
  });

  it("device authorization: pending, slow down, approval on /device after sign-in, then tokens once", async () => {
    const device = CLIENTS.device.id;
    const started = await post("/oauth2/device_authorization", { client_id: device, scope: "openid" });
    expect(started.status).toBe(200);
    const poll = () =>
      post("/oauth2/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: device,
        device_code: started.body.device_code as string,
      });
    expect((await poll()).body.error).toBe("authorization_pending");
    expect((await poll()).body.error).toBe("slow_down");

    const browser = new TestBrowser(h.dispatcher);
    const login = await browser.follow(started.body.verification_uri_complete as string);
    const confirm = await browser.submit(login, /\/login\/password/, {
      username: "bob",
      password: PEOPLE.bob.password,
    });
    expect(confirm.html).toContain(started.body.user_code);
    // Without the CSRF token the approval is refused.
    const forged = await browser.request(`${h.url}/device`, {
      user_code: started.body.user_code as string,
      decision: "approve",
    });
    expect(forged.status).toBe(403);
    const done = await browser.submit(confirm, /^\/device$/, { decision: "approve" });
    expect(done.html).toContain("Device connected");

    await new Promise((r) => setTimeout(r, 5_100));
    const tokens = await poll();
    expect(tokens.status).toBe(200);
    expect(
      JSON.parse(Buffer.from((tokens.body.access_token as string).split(".")[1] as string, "base64url").toString()),
    ).toMatchObject({ preferred_username: "bob" });
    expect((await poll()).body.error).toBe("invalid_grant");
  }, 30_000);

  it("device authorization: after 10 wrong user codes even the right one is refused, for that person only", async () => {
    const started = await post("/oauth2/device_authorization", { client_id: CLIENTS.device.id, scope: "openid" });
    const code = started.body.user_code as string;
    const bob = new TestBrowser(h.dispatcher);
    const login = await bob.follow(`${h.url}/device`);
    const form = await bob.submit(login, /\/login\/password/, { username: "bob", password: PEOPLE.bob.password });
    expect(form.status).toBe(200);
    // Ten wrong codes: the real one with its last letter changed. They answer like an expired code.
    const others = [..."BCDFGHJKLMNP"].filter((letter) => letter !== code.at(-1)).slice(0, 10);
    for (const letter of others) {
      const wrong = await bob.request(`${h.url}/device?user_code=${code.slice(0, -1)}${letter}`);
      expect(wrong.status).toBe(404);
      expect(wrong.html).toContain("That code is unknown or has expired.");
    }
    const refused = await bob.request(`${h.url}/device?user_code=${encodeURIComponent(code)}`);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain("Too many codes did not match");
    const audit = await h.runtime.store.read("audit", { latest: true, limit: 20 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "oauth.device_code_limited", limit: "person" }),
    );
    // Another person (here from the same loopback address, whose limit is higher) still connects the device.
    const alice = new TestBrowser(h.dispatcher);
    const aliceLogin = await alice.follow(started.body.verification_uri_complete as string);
    const confirm = await alice.submit(aliceLogin, /\/login\/password/, {
      username: "alice",
      password: PEOPLE.alice.password,
    });
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain(code);
    const done = await alice.submit(confirm, /^\/device$/, { decision: "approve" });
    expect(done.html).toContain("Device connected");
  });

  it("end session without an id_token_hint asks first: a cross-site GET ends nothing, confirming does", async () => {
    const { verifier, challenge } = pkce();
    const { browser, callback } = await authorize({
      client_id: web.id,
      redirect_uri: web.redirectUri,
      response_type: "code",
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    await redeemFor(callback, verifier);
    const silent = `${h.url}/oauth2/authorize?client_id=${web.id}&response_type=code&prompt=none&code_challenge=${challenge}&code_challenge_method=S256&redirect_uri=${encodeURIComponent(web.redirectUri)}`;
    // What an <img src> or a link on any other site makes the browser do.
    const ask = await browser.request(
      `${h.url}/oauth2/logout?client_id=${web.id}&state=bye&post_logout_redirect_uri=${encodeURIComponent(web.redirectUri)}`,
    );
    expect(ask.status).toBe(200);
    expect(ask.location).toBeUndefined();
    expect(ask.html).toContain("Sign out of Archway?");
    expect((await browser.request(silent)).location).toContain("code=");
    // A POST without the form's CSRF token ends nothing either.
    expect((await browser.request(`${h.url}/oauth2/logout`, { client_id: web.id })).html).toContain(
      "Sign out of Archway?",
    );
    expect((await browser.request(silent)).location).toContain("code=");

    const out = await browser.submit(ask, /\/oauth2\/logout$/, {}, web.redirectUri);
    expect(out.status).toBe(303);
    expect(out.location).toBe(`${web.redirectUri}?state=bye`);
    expect(new URL((await browser.request(silent)).location as string).searchParams.get("error")).toBe(
      "login_required",
    );
    // Signed out, a second request has nothing to end and says so.
    const again = await browser.request(`${h.url}/oauth2/logout`);
    expect(again.status).toBe(200);
    expect(again.html).toContain("You are not signed in to Archway");
  });

  it("offline_access: the refresh token survives sign-out, shows on My clouds and ends when the person revokes it", async () => {
    const { verifier, challenge } = pkce();
    const { browser, callback } = await authorize(
      {
        client_id: web.id,
        redirect_uri: web.redirectUri,
        response_type: "code",
        scope: "openid offline_access",
        code_challenge: challenge,
        code_challenge_method: "S256",
      },
      // bob: no other test here gives him offline access, so the list holds only this one.
      "bob",
    );
    const tokens = await redeemFor(callback, verifier);
    await browser.request(`${h.url}/oauth2/logout?id_token_hint=${tokens.id_token}`);
    expect((await userinfo(tokens.access_token as string)).status).toBe(401);
    const refresh = (token: string) =>
      post("/oauth2/token", { grant_type: "refresh_token", refresh_token: token }, web);
    const survived = await refresh(tokens.refresh_token as string);
    expect(survived.status).toBe(200);
    // Signed in again, the person sees the offline access on My clouds and revokes it there.
    const login = await browser.follow(`${h.url}/login?return_to=/`);
    const home = await browser.submit(login, /\/login\/password/, {
      username: "bob",
      password: PEOPLE.bob.password,
    });
    expect(home.html).toContain(`Offline access for ${web.id}`);
    // Oldest first: revoke each offline access listed (other tests may have left some) until none is.
    let page = home;
    for (let i = 0; i < 10 && page.html.includes(`Offline access for ${web.id}`); i++) {
      page = await browser.submit(page, /\/sessions\/end/, {});
      expect(page.html).toContain("Session ended");
    }
    expect(page.html).not.toContain(`Offline access for ${web.id}`);
    expect((await refresh(survived.body.refresh_token as string)).body.error).toBe("invalid_grant");
    expect((await userinfo(survived.body.access_token as string)).status).toBe(401);
  });

  it("end session: signs the browser out and returns only to a registered URI", async () => {
    const { verifier, challenge } = pkce();
    const { browser, callback } = await authorize({
      client_id: web.id,
      redirect_uri: web.redirectUri,
      response_type: "code",
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const tokens = await redeemFor(callback, verifier);
    const bad = await browser.request(
      `${h.url}/oauth2/logout?id_token_hint=${tokens.id_token}&post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.location).toBeUndefined();
    // A valid hint for the person signed in here needs no confirmation.
    const out = await browser.request(
      `${h.url}/oauth2/logout?id_token_hint=${tokens.id_token}&state=bye&post_logout_redirect_uri=${encodeURIComponent(web.redirectUri)}`,
    );
    expect(out.location).toBe(`${web.redirectUri}?state=bye`);
    const after = await browser.request(
      `${h.url}/oauth2/authorize?client_id=${web.id}&response_type=code&prompt=none&redirect_uri=${encodeURIComponent(web.redirectUri)}&code_challenge=${challenge}&code_challenge_method=S256`,
    );
    expect(new URL(after.location as string).searchParams.get("error")).toBe("login_required");
    // The sign-out ended the session the tokens hang off: its access token is refused from now on.
    expect((await userinfo(tokens.access_token as string)).status).toBe(401);
  });

  it("discovery names every endpoint and only S256", async () => {
    const meta = rp.serverMetadata();
    expect(meta.code_challenge_methods_supported).toEqual(["S256"]);
    for (const k of [
      "token_endpoint",
      "userinfo_endpoint",
      "revocation_endpoint",
      "introspection_endpoint",
      "end_session_endpoint",
      "device_authorization_endpoint",
      "jwks_uri",
    ] as const)
      expect(meta[k]).toMatch(new RegExp(`^${h.url}/`));
  });
});

async function redeemFor(callback: URL, verifier: string) {
  const res = await post(
    "/oauth2/token",
    {
      grant_type: "authorization_code",
      code: callback.searchParams.get("code") as string,
      redirect_uri: web.redirectUri,
      code_verifier: verifier,
    },
    web,
  );
  expect(res.status).toBe(200);
  return res.body;
}
