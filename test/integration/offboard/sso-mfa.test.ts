import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Identity, satisfiesMfa, TOTP_PERIOD_SECONDS, totpCode } from "../../../src/identity/index.js";
import { SoftAuthenticator } from "../../helpers/soft-authenticator.js";
import { SsoBrowser } from "./sso-browser.js";
import { type SsoHarness, startSsoHarness } from "./sso-harness.js";

// `mfa: required` on an upstream OIDC source (docs/mfa.md): an SSO sign-in whose ID token reports no second factor
// gets Archway's own second step (forced enrolment the first time, a TOTP code after), and then a session whose
// amr is the upstream's plus otp and mfa; one whose ID token reports `mfa` goes straight in. The upstream is the test
// environment's real oidc-provider (its login form's `amr` field says how the person signed in).

const STEP_MS = TOTP_PERIOD_SECONDS * 1000;
let h: SsoHarness;
let secret = "";
let lastStep = 0;

beforeAll(async () => {
  h = await startSsoHarness({ detectSeconds: 900, mfa: "required" });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

/** Through Archway's /login to the upstream and back; resolves the page Archway answered with. */
async function ssoSignIn(fields: Record<string, string> = {}) {
  const browser = new SsoBrowser(h.dispatcher);
  const login = await browser.go(`${h.url}/login`);
  const upstream = await browser.submit(login, {}, /\/login\/sso\/corp$/);
  const back = await browser.submit(upstream, { login: "alice", password: "alice-pw", ...fields });
  return { browser, back };
}

/** A TOTP code for a step not used yet (each step's code is accepted once). */
async function nextCode(): Promise<string> {
  const step = Math.max(lastStep + 1, Math.floor(Date.now() / STEP_MS));
  while (Math.floor(Date.now() / STEP_MS) < step - 1) await new Promise((r) => setTimeout(r, 500));
  lastStep = step;
  return totpCode(secret, step * STEP_MS);
}

/** The `amr` of an access token Archway's OpenID Provider gives this browser's session. */
async function amrOf(browser: SsoBrowser): Promise<string[]> {
  const { accessToken } = await h.oauthTokens(browser);
  const claims = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as {
    amr?: string[];
  };
  return claims.amr ?? [];
}

describe("Archway's second step after an upstream SSO that reported none", () => {
  it("forces enrolment first, then asks the code, and the session's amr shows the second factor", async () => {
    const first = await ssoSignIn({ amr: "pwd" });
    expect(first.back.status).toBe(200);
    expect(first.back.html).toContain("Set up an authenticator app");
    secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(first.back.html)?.[1] ?? "";
    expect(secret).not.toBe("");
    const enrolled = await first.browser.submit(first.back, { code: await nextCode() }, /\/login\/mfa\/enrol$/);
    expect(enrolled.html).toContain("Recovery codes");
    const enrolledAmr = await amrOf(first.browser);
    expect(enrolledAmr).toEqual(expect.arrayContaining(["fed", "pwd", "otp", "mfa"]));

    const second = await ssoSignIn({ amr: "pwd" });
    expect(second.back.html).toContain("Second factor");
    // No session before the code.
    await expect(h.oauthTokens(second.browser)).rejects.toThrow();
    const wrong = await second.browser.submit(second.back, { code: "000000" }, /\/login\/mfa$/);
    expect(wrong.status).toBe(401);
    const done = await second.browser.submit(wrong, { code: await nextCode() }, /\/login\/mfa$/);
    expect(done.status).toBe(200);
    expect(done.url.startsWith(h.url)).toBe(true);
    const amr = await amrOf(second.browser);
    expect(amr).toEqual(expect.arrayContaining(["fed", "pwd", "otp", "mfa"]));
    expect(satisfiesMfa(amr)).toBe(true);

    // The upstream grant was kept once the second step passed: the upstream's sign-out (back-channel logout,
    // matched by the upstream sid kept with it) ends the session.
    await h.upstreamLogout(second.browser);
    await expect(h.oauthTokens(second.browser)).rejects.toThrow();
  }, 120_000);

  it("asks nothing when the upstream's ID token reports mfa", async () => {
    const { browser, back } = await ssoSignIn({ amr: "pwd,mfa" });
    expect(back.status).toBe(200);
    expect(back.html).not.toContain('action="/login/mfa');
    expect(back.html).toContain("My clouds");
    expect(await amrOf(browser)).toEqual(["fed", "pwd", "mfa"]);
  }, 60_000);

  it("offers a passkey the person holds beside the code, and the session keeps the upstream grant", async () => {
    // Alice's stable id, from the token of a sign-in that needed no second step.
    const plain = await ssoSignIn({ amr: "pwd,mfa" });
    const { accessToken } = await h.oauthTokens(plain.browser);
    const sub = (JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString()) as { sub: string })
      .sub;
    const alice: Identity = {
      ...{ id: sub, source: "corp", username: "alice" },
      ...{ groups: [], groupDns: [], sshKeys: [], attributes: {} },
    };
    const key = new SoftAuthenticator();
    const passkeys = h.gateway.web.deps.passkeys;
    if (!passkeys) throw new Error("passkeys are not wired");
    await passkeys.credentials.add(alice, key.record("security key"));

    const { browser, back } = await ssoSignIn({ amr: "pwd" });
    expect(back.html).toContain('aria-label="Use your passkey"');
    const pending = /name="pending" value="([^"]+)"/.exec(back.html)?.[1] ?? "";
    const csrf = /data-csrf="([^"]+)"/.exec(back.html)?.[1] ?? "";
    const origin = new URL(h.url).origin;
    const res = await fetch(`${h.url}/login/mfa/passkey/options?pending=${encodeURIComponent(pending)}`, {
      method: "POST",
      headers: { cookie: browser.cookies(origin), "x-csrf-token": csrf },
    });
    expect(res.status).toBe(200);
    const options = (await res.json()) as PublicKeyCredentialRequestOptionsJSON;
    const credential = JSON.stringify(key.assert(options, origin));
    const done = await browser.submit(back, { credential }, /\/login\/mfa\/passkey$/);
    expect(done.status).toBe(200);
    expect(done.url.startsWith(h.url)).toBe(true);
    const amr = await amrOf(browser);
    expect(amr).toEqual(expect.arrayContaining(["fed", "pwd", "hwk", "user", "mfa"]));
    expect(amr).not.toContain("otp");

    // The upstream grant was kept through the passkey step too: the upstream's sign-out ends the session.
    await h.upstreamLogout(browser);
    await expect(h.oauthTokens(browser)).rejects.toThrow();
  }, 120_000);
});
