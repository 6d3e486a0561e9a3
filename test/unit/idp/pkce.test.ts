import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { IdpClientSchema } from "../../../src/config/index.js";
import { LEGACY_APP, providerFixture } from "./provider-fixture.js";

// Issue 22 item 9: PKCE was optional for confidential clients. It is required by default (OAuth 2.1), with a
// per-client `pkce: optional`.
const WEB = { id: "web-app", secret: "web-secret", redirectUri: "https://dashboard.test/callback" };

function pkce() {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

async function authorize(f: ReturnType<typeof providerFixture>, params: Record<string, string>) {
  const browser = f.browser("192.0.2.20");
  await browser.signIn("alice");
  const res = await browser.request(`/oauth2/authorize?${new URLSearchParams({ response_type: "code", ...params })}`);
  expect(res.status).toBe(303);
  return new URL(res.headers.get("location") as string).searchParams;
}

async function redeem(f: ReturnType<typeof providerFixture>, client: { id: string; secret: string }, form: object) {
  const res = await f.app.request("/oauth2/token", {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${client.id}:${client.secret}`).toString("base64")}`,
    },
    body: new URLSearchParams({ grant_type: "authorization_code", ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe("PKCE for confidential clients", () => {
  it("a confidential client without code_challenge is refused at /oauth2/authorize by default", async () => {
    const f = providerFixture();
    const back = await authorize(f, { client_id: WEB.id, redirect_uri: WEB.redirectUri, state: "s" });
    expect(Object.fromEntries(back)).toMatchObject({ error: "invalid_request", state: "s" });
    expect(back.get("error_description")).toContain("PKCE");
    expect(back.get("code")).toBeNull();
  });

  it("with code_challenge the same client gets a code, redeemed only with its verifier", async () => {
    const f = providerFixture();
    const { verifier, challenge } = pkce();
    const back = await authorize(f, {
      client_id: WEB.id,
      redirect_uri: WEB.redirectUri,
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const code = back.get("code") as string;
    expect((await redeem(f, WEB, { code, redirect_uri: WEB.redirectUri })).body.error).toBe("invalid_grant");
    const again = await authorize(f, {
      client_id: WEB.id,
      redirect_uri: WEB.redirectUri,
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const ok = await redeem(f, WEB, {
      code: again.get("code") as string,
      redirect_uri: WEB.redirectUri,
      code_verifier: verifier,
    });
    expect(ok.status).toBe(200);
  });

  it("a client configured with pkce: optional may go without", async () => {
    const f = providerFixture();
    const back = await authorize(f, {
      client_id: LEGACY_APP.id,
      redirect_uri: LEGACY_APP.redirectUri,
      scope: "openid",
    });
    const res = await redeem(
      f,
      { id: LEGACY_APP.id, secret: "legacy-secret" },
      { code: back.get("code") as string, redirect_uri: LEGACY_APP.redirectUri },
    );
    expect(res.status).toBe(200);
    expect(res.body.id_token).toBeDefined();
  });

  it("a public client cannot be configured without PKCE", () => {
    const parsed = IdpClientSchema.safeParse({
      id: "spa",
      public: true,
      redirectUris: ["https://spa.test/cb"],
      pkce: "optional",
    });
    expect(parsed.success).toBe(false);
    expect(IdpClientSchema.parse({ id: "c", secret: "s", grants: ["client_credentials"] }).pkce).toBe("required");
  });
});
