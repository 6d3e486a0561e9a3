import { readFileSync } from "node:fs";
import { Agent } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { OidcSourceSchema } from "../../../src/config/index.js";
import { OidcSource } from "../../../src/identity/index.js";
import { describeRedirectConformance } from "../../conformance/identity.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { browserLogin } from "../../helpers/oidc-browser.js";

// Against the test environment's real oidc-provider over https (test CA).
const env = loadEndpoints();
const REDIRECT = "http://127.0.0.1:18080/callback";
// The test's "browser" trusts the test CA too.
const browser = new Agent({ connect: { ca: readFileSync(env.ca.certFile) } });

function source(over: Record<string, unknown> = {}, now?: () => number): OidcSource {
  const config = OidcSourceSchema.parse({
    id: "corp-sso",
    type: "oidc",
    issuer: env.oidc.issuer,
    clientId: "archway",
    clientSecret: "archway-secret",
    caFile: env.oidc.caFile,
    scopes: ["openid", "email", "profile", "groups"],
    ...over,
  });
  return new OidcSource(config, { now });
}

async function loginUpTo(s: OidcSource, user = "alice", password = "alice-pw") {
  const start = await s.beginLogin({ redirectUri: REDIRECT });
  const callback = await browserLogin(new URL(start.url), REDIRECT, { login: user, password }, browser);
  return { start, callback };
}

const conforming = source();
describeRedirectConformance("oidc", () => ({
  source: conforming,
  redirectUri: REDIRECT,
  login: async (start, user) => ({
    url: await browserLogin(new URL(start.url), REDIRECT, { login: user.username, password: user.password }, browser),
  }),
  user: { username: "alice", password: "alice-pw", groups: ["admins", "devs"] },
  other: { username: "bob", password: "bob-pw" },
}));

describe("OIDC upstream source", () => {
  const s = source();
  afterAll(() => s.close());

  it("completes a headless authorization-code + PKCE login and maps the claims", async () => {
    const { start, callback } = await loginUpTo(s);
    expect(new URL(start.url).searchParams.get("code_challenge_method")).toBe("S256");
    const { identity, tokens } = await s.completeLogin(callback, start.pending);
    expect(identity).toMatchObject({
      id: "corp-sso:alice",
      source: "corp-sso",
      username: "alice",
      email: "alice@example.org",
      displayName: "Alice Anders",
      groups: ["admins", "devs"],
    });
    expect(tokens.refreshToken).toBeTruthy();
  });

  it("refuses a tampered state", async () => {
    const { start, callback } = await loginUpTo(s);
    callback.searchParams.set("state", `${start.state}x`);
    await expect(s.completeLogin(callback, start.pending)).rejects.toMatchObject({
      code: "login_failed",
      status: 401,
      message: expect.stringMatching(/state/i),
    });
  });

  it("refuses a replayed code", async () => {
    const { start, callback } = await loginUpTo(s);
    await s.completeLogin(callback, start.pending);
    await expect(s.completeLogin(callback, start.pending)).rejects.toMatchObject({
      code: "login_failed",
      message: expect.stringMatching(/invalid_grant/),
    });
  });

  it("refuses an ID token whose nonce is not the one sent", async () => {
    const { start, callback } = await loginUpTo(s);
    const pending = { ...JSON.parse(start.pending), nonce: "not-the-nonce-we-sent" };
    await expect(s.completeLogin(callback, JSON.stringify(pending))).rejects.toMatchObject({
      code: "login_failed",
      message: expect.stringMatching(/CLAIM_COMPARISON|nonce/i),
    });
  });

  it("refuses an expired ID token", async () => {
    // archway-short's ID tokens live 2 s; this source's clock runs a minute ahead (beyond the 30 s tolerance).
    const late = source({ clientId: "archway-short", clientSecret: "archway-short-secret" }, () => Date.now() + 60_000);
    const { start, callback } = await loginUpTo(late);
    await expect(late.completeLogin(callback, start.pending)).rejects.toMatchObject({
      code: "login_failed",
      message: expect.stringMatching(/TIMESTAMP_CHECK_FAILED/),
    });
  });

  it("refuses a wrong password upstream (access_denied)", async () => {
    const start = await s.beginLogin({ redirectUri: REDIRECT });
    const callback = await browserLogin(new URL(start.url), REDIRECT, { login: "alice", password: "wrong" }, browser);
    expect(callback.searchParams.get("error")).toBe("access_denied");
    await expect(s.completeLogin(callback, start.pending)).rejects.toMatchObject({ code: "login_failed" });
  });

  it("refreshes, and answers null once the refresh token is no good", async () => {
    const { start, callback } = await loginUpTo(s, "bob", "bob-pw");
    const first = await s.completeLogin(callback, start.pending);
    const refreshed = await s.refresh(first.tokens);
    expect(refreshed?.identity).toMatchObject({ username: "bob", groups: ["devs"] });
    expect(await s.refresh({ refreshToken: "not-a-refresh-token" })).toBeNull();
  });

  it("builds an RP-initiated logout URL", async () => {
    const { start, callback } = await loginUpTo(s);
    const { tokens } = await s.completeLogin(callback, start.pending);
    const url = new URL(
      (await s.logoutUrl({ idToken: tokens.idToken, postLogoutRedirectUri: "http://127.0.0.1:18080/logged-out" }))!,
    );
    expect(url.origin).toBe(env.oidc.issuer);
    expect(url.searchParams.get("id_token_hint")).toBe(tokens.idToken);
  });

  it("serves several upstreams at once", async () => {
    const other = source({ id: "partner-sso", clientId: "archway-short", clientSecret: "archway-short-secret" });
    const [a, b] = await Promise.all([loginUpTo(s, "carol", "carol-pw"), loginUpTo(other, "bob", "bob-pw")]);
    expect((await s.completeLogin(a.callback, a.start.pending)).identity.id).toBe("corp-sso:carol");
    expect((await other.completeLogin(b.callback, b.start.pending)).identity.id).toBe("partner-sso:bob");
  });

  it("requires https unless the source allows http for development", () => {
    expect(() => source({ issuer: "http://127.0.0.1:1" })).toThrow(/issuer must be https/);
    expect(() => source({ issuer: "http://127.0.0.1:1", allowInsecureHttp: true })).not.toThrow();
  });

  it("reports discovery failures as unavailable, not as a crash", async () => {
    const dead = source({ issuer: "https://127.0.0.1:1" });
    await expect(dead.ping()).rejects.toMatchObject({ code: "directory_unavailable", status: 503 });
  });
});
