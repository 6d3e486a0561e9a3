import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKCHANNEL_LOGOUT_EVENT } from "../../../src/identity/index.js";
import type { SsoBrowser } from "./sso-browser.js";
import { RP, revokeUpstreamGrants, SSO_CLIENT, type SsoHarness, startSsoHarness } from "./sso-harness.js";

// Archway on port 18082 with the test environment's real oidc-provider as its `corp` SSO (client archway-bcl, whose
// registered back-channel logout URI points at this Archway). People sign in to Archway's web pages through it.

/** Whether the browser's Archway web session still lets it in (a page, not a redirect to /login). */
async function signedIn(h: SsoHarness, b: SsoBrowser): Promise<boolean> {
  const res = await fetch(`${h.url}/`, { redirect: "manual", headers: { cookie: b.cookies(h.url) } });
  await res.arrayBuffer();
  return res.status === 200;
}

async function userinfo(h: SsoHarness, accessToken: string): Promise<number> {
  const res = await fetch(`${h.url}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

/** Spends an offline refresh token at Archway; resolves the status and the rotated token. */
async function refresh(h: SsoHarness, token: string): Promise<{ status: number; token: string }> {
  const res = await fetch(`${h.url}/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${RP.id}:${RP.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: token }),
  });
  const body = (await res.json()) as { refresh_token?: string };
  return { status: res.status, token: body.refresh_token ?? "" };
}

async function until(check: () => Promise<boolean>, seconds: number): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > seconds * 1000) throw new Error(`not within ${seconds} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return (Date.now() - start) / 1000;
}

describe("back-channel logout from the real upstream", () => {
  let h: SsoHarness;
  // Grant renewal off: every session end seen here comes from a logout token.
  beforeAll(async () => {
    h = await startSsoHarness({ detectSeconds: 0, refreshFailure: "off" });
  }, 60_000);
  afterAll(() => h?.close());

  /** A logout token signed with the upstream's own key: genuine, right in every claim unless `over` says. */
  async function logoutToken(sub: string, over: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload = Object.fromEntries(
      Object.entries({
        iss: h.env.oidc.issuer,
        aud: SSO_CLIENT.id,
        iat: now,
        exp: now + 120,
        jti: randomUUID(),
        sub,
        events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
        ...over,
      }).filter(([, v]) => v !== undefined),
    );
    const res = await fetch(`${h.env.oidc.issuer}/test-admin/sign`, {
      method: "POST",
      body: JSON.stringify(payload),
      dispatcher: h.dispatcher,
    } as RequestInit);
    if (res.status !== 200) throw new Error(`sign: ${res.status} (is the upstream test/env/oidc/provider.mjs of bcl?)`);
    return res.text();
  }

  const post = (token: string) =>
    fetch(`${h.url}/login/sso/corp/backchannel-logout`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: token }),
    });

  it("a sign-out at the upstream ends the Archway login session, its tokens and the broker's cache; offline grants stay", async () => {
    const bob = await h.signIn("bob", "bob-pw");
    expect(await signedIn(h, bob)).toBe(true);
    const { accessToken, refreshToken } = await h.oauthTokens(bob);
    expect(await userinfo(h, accessToken)).toBe(200);
    const gen = await h.runtime.store.get("broker:gen:corp:bob");
    // Another browser of bob's, in another upstream session: a logout token naming one upstream session ends only
    // the Archway sessions made from it.
    const phone = await h.signIn("bob", "bob-pw");

    await h.upstreamLogout(bob); // the upstream posts its logout token before it answers

    expect(await signedIn(h, bob)).toBe(false);
    expect(await userinfo(h, accessToken)).toBe(401);
    expect(await h.runtime.store.get("broker:gen:corp:bob")).not.toBe(gen);
    expect(await signedIn(h, phone)).toBe(true);
    // offline_access outlives a sign-out by design (as at Archway's own sign-out); it stays listed and revocable.
    expect((await refresh(h, refreshToken)).status).toBe(200);
    const audit = await h.runtime.store.read("audit", { latest: true, limit: 50 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "logout.backchannel", identity: "corp:bob", sessionsEnded: 1 }),
    );
  }, 60_000);

  it("refuses forged, stale and replayed logout tokens with 400 and changes nothing", async () => {
    const carol = await h.signIn("carol", "carol-pw");
    const bad: [string, string][] = [
      ["a nonce", await logoutToken("carol", { nonce: "n" })],
      ["another audience", await logoutToken("carol", { aud: "archway" })],
      ["another issuer", await logoutToken("carol", { iss: "https://127.0.0.1:1" })],
      ["an old iat", await logoutToken("carol", { iat: Math.floor(Date.now() / 1000) - 3600, exp: undefined })],
      ["no events claim", await logoutToken("carol", { events: undefined })],
      ["the wrong event", await logoutToken("carol", { events: { "urn:other": {} } })],
      ["no jti", await logoutToken("carol", { jti: undefined })],
      ["neither sub nor sid", await logoutToken("carol", { sub: undefined })],
    ];
    const genuine = await logoutToken("carol");
    const [header, payload] = genuine.split(".");
    bad.push(["alg none", `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.`]);
    bad.push([
      "a changed payload",
      `${header}.${Buffer.from('{"sub":"carol"}').toString("base64url")}.${genuine.split(".")[2]}`,
    ]);
    for (const [why, token] of bad) {
      const res = await post(token);
      expect({ why, status: res.status }).toEqual({ why, status: 400 });
      expect(await res.json()).toMatchObject({ error: "invalid_request" });
    }
    expect(await signedIn(h, carol)).toBe(true);

    expect((await post(genuine)).status).toBe(200);
    expect(await signedIn(h, carol)).toBe(false);
    // The same token again: refused, and a new session of carol's stays.
    const again = await h.signIn("carol", "carol-pw");
    const replay = await post(genuine);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error_description: expect.stringMatching(/already used/) });
    expect(await signedIn(h, again)).toBe(true);
  }, 60_000);
});

describe("upstream grants renewed during detection", () => {
  let h: SsoHarness;
  beforeAll(async () => {
    h = await startSsoHarness({ detectSeconds: 2 });
  }, 60_000);
  afterAll(() => h?.close());

  it("a grant the upstream revoked ends the person's login sessions within the interval; renewals keep them", async () => {
    const alice = await h.signIn("alice", "alice-pw");
    const { accessToken, refreshToken } = await h.oauthTokens(alice);
    // Two looks renew the grant (the upstream rotates or keeps the refresh token): the session stays.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await signedIn(h, alice)).toBe(true);
    expect(await userinfo(h, accessToken)).toBe(200);

    expect(await revokeUpstreamGrants(h, "alice")).toBeGreaterThan(0);
    const seconds = await until(async () => !(await signedIn(h, alice)), 2 + 10);
    expect(seconds).toBeLessThan(12);
    expect(await userinfo(h, accessToken)).toBe(401);
    // end-sessions (the default) leaves offline grants; offboard mode would end them with everything else.
    expect((await refresh(h, refreshToken)).status).toBe(200);
    const audit = await h.runtime.store.read("audit", { latest: true, limit: 100 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "upstream.grant.refused", identity: "corp:alice", action: "end-sessions" }),
    );
  }, 60_000);
});
