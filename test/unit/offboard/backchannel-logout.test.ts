import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { backchannelLogoutRoutes } from "../../../src/http/web/backchannel-logout.js";
import type { WebDeps } from "../../../src/http/web/deps.js";
import { BACKCHANNEL_LOGOUT_EVENT, type LogoutClaims, verifyLogoutToken } from "../../../src/identity/index.js";
import { MemoryStore } from "../../../src/store/index.js";

const ISSUER = "https://sso.example.org";
const AUDIENCE = "archway";
const { privateKey, publicKey } = await generateKeyPair("ES256");
const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] });

async function logoutToken(claims: Record<string, unknown> = {}, opts: { iat?: number; aud?: string } = {}) {
  return new SignJWT({ sub: "alice-sub", events: { [BACKCHANNEL_LOGOUT_EVENT]: {} }, ...claims })
    .setProtectedHeader({ alg: "ES256", kid: "k1", typ: "logout+jwt" })
    .setIssuer(ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setJti(crypto.randomUUID())
    .sign(privateKey);
}
const verify = (token: string) => verifyLogoutToken(token, { keys, issuer: ISSUER, audience: AUDIENCE });

describe("OIDC back-channel logout tokens", () => {
  it("accepts a signed token with the event, sub, iat and jti", async () => {
    expect(await verify(await logoutToken({ sid: "s1" }))).toMatchObject({ sub: "alice-sub", sid: "s1" });
  });

  it.each([
    ["no event", { events: {} }, {}],
    ["a nonce (an ID token in disguise)", { nonce: "n" }, {}],
    ["another audience", {}, { aud: "someone-else" }],
    ["an old iat", {}, { iat: Math.floor(Date.now() / 1000) - 3600 }],
    ["neither sub nor sid", { sub: undefined }, {}],
  ])("refuses %s", async (_why, claims, opts) => {
    await expect(verify(await logoutToken(claims, opts))).rejects.toMatchObject({ code: "logout_token_invalid" });
  });

  it("refuses an unsigned token", async () => {
    const [, payload] = (await logoutToken()).split(".");
    const none = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.`;
    await expect(verify(none)).rejects.toMatchObject({ code: "logout_token_invalid" });
  });
});

describe("the back-channel logout receiver", () => {
  function receiver() {
    const ended: string[] = [];
    const dropped: string[] = [];
    const deps = {
      redirectSources: [
        {
          id: "sso",
          type: "oidc",
          verifyLogoutToken: (t: string): Promise<LogoutClaims> => verify(t),
        },
      ],
      store: new MemoryStore(),
      audit: async () => {},
      tokenSessions: {
        endPerson: async (id: string) => {
          ended.push(id);
          return 1;
        },
      },
      broker: { drop: async (id: string) => void dropped.push(id) },
    } as unknown as WebDeps;
    const app = backchannelLogoutRoutes(deps);
    const post = (token: string) =>
      app.request("/login/sso/sso/backchannel-logout", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }).toString(),
      });
    return { ended, dropped, post };
  }

  it("ends the person's sessions once, and refuses the same token again", async () => {
    const r = receiver();
    const token = await logoutToken();
    const first = await r.post(token);
    expect(first.status).toBe(200);
    expect(first.headers.get("cache-control")).toBe("no-store");
    expect(r.ended).toEqual(["sso:alice-sub"]);
    expect(r.dropped).toEqual(["sso:alice-sub"]);
    const again = await r.post(token);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "invalid_request" });
    expect(r.ended).toHaveLength(1);
  });

  it("answers 400 to a bad token and ends nothing", async () => {
    const r = receiver();
    expect((await r.post(await logoutToken({ nonce: "x" }))).status).toBe(400);
    expect((await r.post("not-a-jwt")).status).toBe(400);
    expect(r.ended).toEqual([]);
  });
});
