import { describe, expect, it } from "vitest";
import { providerFixture, WEB_APP } from "./provider-fixture.js";

const startDevice = async (f: ReturnType<typeof providerFixture>) => {
  const res = await f.app.request("/oauth2/device_authorization", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "client_id=device-cli&scope=openid",
  });
  return ((await res.json()) as { user_code: string }).user_code;
};

/** The page without what differs from request to request (the code typed in, echoed back). */
const withoutCode = (html: string, code: string) => html.replaceAll(code, "<code>");

describe("POST /oauth2/device_authorization: starts per address", () => {
  it("answers 429 slow_down with Retry-After past 20 starts a minute from one address, and audits it", async () => {
    const f = providerFixture();
    const cli = f.browser("192.0.2.30");
    const start = () => cli.request("/oauth2/device_authorization", { client_id: "device-cli", scope: "openid" });
    for (let i = 0; i < 20; i++) expect((await start()).status).toBe(200);
    const refused = await start();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    expect(JSON.parse(refused.html)).toMatchObject({ error: "slow_down" });
    expect(f.events).toContainEqual(
      expect.objectContaining({ type: "oauth.device_start_limited", actor: "device-cli", clientIp: "192.0.2.30" }),
    );
    expect(
      (await f.browser("198.51.100.40").request("/oauth2/device_authorization", { client_id: "device-cli" })).status,
    ).toBe(200);
    f.clock.advance(60_000);
    expect((await start()).status).toBe(200);
  });
});

describe("/device: guessing user codes", () => {
  it("answers an unknown and an expired code alike", async () => {
    const f = providerFixture();
    const bob = f.browser("192.0.2.10");
    await bob.signIn("bob");
    const code = await startDevice(f);
    f.clock.advance(601_000);
    const expired = await bob.request(`/device?user_code=${code}`);
    const unknown = await bob.request("/device?user_code=ZZZZ-ZZZZ");
    expect(expired.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(withoutCode(expired.html, code)).toBe(withoutCode(unknown.html, "ZZZZ-ZZZZ"));
  });

  it("refuses with 429 after 10 wrong codes, even the right one, and audits it; others are not affected", async () => {
    const f = providerFixture();
    const bob = f.browser("192.0.2.10");
    await bob.signIn("bob");
    const code = await startDevice(f);
    // Ten wrong codes: the real one with its last letter changed.
    const others = [..."BCDFGHJKLMNP"].filter((letter) => letter !== code.at(-1)).slice(0, 10);
    for (const letter of others)
      expect((await bob.request(`/device?user_code=${code.slice(0, -1)}${letter}`)).status).toBe(404);
    const refused = await bob.request(`/device?user_code=${code}`);
    expect(refused.status).toBe(429);
    expect(refused.html).toContain("Too many codes did not match");
    expect(refused.html).not.toContain(code.replace("-", ""));
    expect(refused.headers.get("retry-after")).toBe("900");
    expect(refused.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(f.events).toContainEqual({
      type: "oauth.device_code_limited",
      actor: "demo:bob",
      clientIp: "192.0.2.10",
      limit: "person",
    });
    // Posting a decision is a lookup too (the CSRF token is the session's, as the header's sign-out form has it).
    const csrf = bob.hiddenFields((await bob.request("/device")).html, "/logout").csrf;
    expect(csrf).toBeDefined();
    expect((await bob.request("/device", { csrf: csrf as string, user_code: code, decision: "approve" })).status).toBe(
      429,
    );

    const alice = f.browser("198.51.100.20");
    await alice.signIn("alice");
    const page = await alice.request(`/device?user_code=${code}`);
    expect(page.status).toBe(200);
    const done = await alice.request("/device", { ...alice.hiddenFields(page.html, "/device"), decision: "approve" });
    expect(done.html).toContain("Device connected");
  });
});

describe("/oauth2/logout: no sign-out a page did not ask the person about", () => {
  const logoutUrl = (params: Record<string, string>) => `/oauth2/logout?${new URLSearchParams(params)}`;

  it("without an id_token_hint shows a confirmation and keeps the session; confirming ends it", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.10");
    await alice.signIn("alice");
    const ask = await alice.request(
      logoutUrl({ client_id: WEB_APP.id, post_logout_redirect_uri: WEB_APP.logoutUri, state: "s&1" }),
    );
    expect(ask.status).toBe(200);
    expect(ask.html).toContain("Sign out of Archway?");
    expect(ask.html).toContain(WEB_APP.name);
    // The confirmed form's answer redirects to the client, so its origin is an allowed form target.
    expect(ask.headers.get("content-security-policy")).toContain("form-action 'self' https://dashboard.test;");
    expect(ask.headers.get("x-frame-options")).toBe("DENY");
    expect(await alice.whoami()).toBe("alice");
    expect(f.events.filter((e) => e.type === "oauth.logout")).toEqual([]);

    const fields = alice.hiddenFields(ask.html, "/oauth2/logout");
    expect(fields).toMatchObject({
      client_id: WEB_APP.id,
      post_logout_redirect_uri: WEB_APP.logoutUri,
      state: "s&1",
    });
    const done = await alice.request("/oauth2/logout", fields);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${WEB_APP.logoutUri}?state=s%261`);
    expect(await alice.whoami()).toBe("nobody");
    expect(f.events).toContainEqual({
      type: "oauth.logout",
      actor: "demo:alice",
      client: WEB_APP.id,
      via: "confirmed",
    });
  });

  it("a POST without this session's CSRF token ends nothing", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.10");
    await alice.signIn("alice");
    const plain = await alice.request("/oauth2/logout", { client_id: WEB_APP.id });
    expect(plain.status).toBe(200);
    expect(plain.html).toContain("Sign out of Archway?");
    const forged = await alice.request("/oauth2/logout", { csrf: "not-the-token" });
    expect(forged.status).toBe(403);
    expect(forged.html).toContain("Sign out of Archway?");
    // The token is accepted from a form only, not from a URL.
    const csrf = alice.hiddenFields(plain.html, "/oauth2/logout").csrf as string;
    expect((await alice.request(logoutUrl({ csrf }))).status).toBe(200);
    expect(await alice.whoami()).toBe("alice");
    // Without the session cookie (what a cross-site POST carries under SameSite=Lax) there is nothing to end.
    const stranger = f.browser("192.0.2.99");
    const none = await stranger.request("/oauth2/logout", { csrf });
    expect(none.html).toContain("You are not signed in to Archway");
    expect(await alice.whoami()).toBe("alice");
  });

  it("a valid id_token_hint for the signed-in person signs out at once; another person's asks first", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.10");
    await alice.signIn("alice");
    const bobs = await f.idToken("bob");
    const ask = await alice.request(
      logoutUrl({ id_token_hint: bobs, post_logout_redirect_uri: WEB_APP.logoutUri, state: "x" }),
    );
    expect(ask.status).toBe(200);
    expect(ask.html).toContain("Sign out of Archway?");
    expect(alice.hiddenFields(ask.html, "/oauth2/logout")).not.toHaveProperty("id_token_hint");
    expect(await alice.whoami()).toBe("alice");

    const out = await alice.request(
      logoutUrl({ id_token_hint: await f.idToken("alice"), post_logout_redirect_uri: WEB_APP.logoutUri, state: "x" }),
    );
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(`${WEB_APP.logoutUri}?state=x`);
    expect(await alice.whoami()).toBe("nobody");
    expect(f.events).toContainEqual({
      type: "oauth.logout",
      actor: "demo:alice",
      client: WEB_APP.id,
      via: "id_token_hint",
    });
  });

  it("never goes to an unregistered URI, not even from a tampered confirmation", async () => {
    const f = providerFixture();
    const alice = f.browser("192.0.2.10");
    await alice.signIn("alice");
    const evil = "https://evil.example/";
    const bad = await alice.request(logoutUrl({ client_id: WEB_APP.id, post_logout_redirect_uri: evil }));
    expect(bad.status).toBe(400);
    expect(bad.headers.get("location")).toBeNull();
    const ask = await alice.request(logoutUrl({ client_id: WEB_APP.id }));
    const fields = alice.hiddenFields(ask.html, "/oauth2/logout");
    const tampered = await alice.request("/oauth2/logout", { ...fields, post_logout_redirect_uri: evil });
    expect(tampered.status).toBe(400);
    expect(await alice.whoami()).toBe("alice");
    // Without a session, nothing is ended and nothing redirects; a registered URI is offered as a link.
    const stranger = f.browser("192.0.2.99");
    const none = await stranger.request(
      logoutUrl({ client_id: WEB_APP.id, post_logout_redirect_uri: WEB_APP.logoutUri, state: "z" }),
    );
    expect(none.status).toBe(200);
    expect(none.headers.get("location")).toBeNull();
    expect(none.html).toContain("You are not signed in to Archway");
    expect(none.html).toContain(`href="${WEB_APP.logoutUri}?state=z"`);
  });
});
