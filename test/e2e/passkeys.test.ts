import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSKEY_SCRIPT_HASH } from "../../src/http/web/passkeys/script.js";
import { SSO_POST_SCRIPT_HASH } from "../../src/http/web/sso-post-script.js";
import { ARTIFACTS, launchChromium, startWeb, type WebHarness } from "./web-harness.js";

// Passkeys in Debian's headless Chromium with CDP's virtual authenticator (a platform authenticator with resident
// keys and user verification), against the real slapd. The public URL is http://localhost: WebAuthn refuses IP
// addresses as relying party ids, and localhost is a secure context. The source has `mfa: optional`: a person who
// holds a passkey (a factor of the factor store) is asked for a second factor after the password, one who holds
// none is not.
let h: WebHarness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;
let recoveryCodes: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

/** The current browser session's `amr`, as `/api/v1/me/sessions` reports it. */
async function currentAmr(): Promise<string[]> {
  const res = await page.request.get(`${h.url}/api/v1/me/sessions`);
  const { sessions } = (await res.json()) as { sessions: { current: boolean; amr: string[] }[] };
  return sessions.find((s) => s.current)?.amr ?? [];
}

async function signOut(): Promise<void> {
  await page.goto(`${h.url}/`);
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/login\?signed_out/);
}

async function password(username: string): Promise<void> {
  await page.goto(`${h.url}/login`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(`pass-${username}`);
  await page.getByRole("button", { name: "Sign in" }).click();
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startWeb(18117, { publicHost: "localhost", sourceMfa: "optional" });
  browser = await launchChromium();
  context = await browser.newContext();
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("passkeys in the browser", () => {
  it("registers a named passkey on the person's page; a first factor comes with recovery codes", async () => {
    await password("user0001");
    await page.waitForURL(`${h.url}/`);
    expect(await currentAmr()).toEqual(["pwd"]);
    await page.getByRole("link", { name: "Passkeys and security keys" }).click();
    await page.getByLabel("Name").fill("virtual laptop");
    await page.getByRole("button", { name: "Add a passkey" }).click();
    await expect.poll(() => page.locator(".recovery-codes code").count()).toBe(10);
    recoveryCodes = await page.locator(".recovery-codes code").allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.getByRole("link", { name: "Continue" }).click();
    await page.waitForURL(`${h.url}/passkeys?ok=added`);
    const rows = page.locator("tbody tr[data-passkey-id]");
    expect(await rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain("virtual laptop");
    expect(await rows.first().innerText()).toContain("this device");
    await shot("passkeys.png");
  });

  it("asks for the passkey on the one second-step page after the password", async () => {
    await signOut();
    await password("user0001");
    const form = page.getByRole("form", { name: "Use your passkey" });
    await expect.poll(() => form.count()).toBe(1);
    expect(await form.getAttribute("data-passkey")).toBe("get");
    expect(await form.getAttribute("data-options")).toMatch(/^\/login\/mfa\/passkey\/options\?pending=[\w-]{20,}$/);
    // The code form beside it (a recovery code works for a passkey-only person).
    expect(await page.getByLabel("Code from your authenticator app, or a recovery code").count()).toBe(1);
    // No session yet: the password alone opens nothing.
    expect((await page.request.get(`${h.url}/api/v1/me/sessions`)).status()).toBe(401);
    await shot("passkey-second-step.png");
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.waitForURL(`${h.url}/`);
    expect(await currentAmr()).toEqual(["pwd", "hwk", "user", "mfa"]);
    await page.goto(`${h.url}/passkeys`);
    expect(await page.locator("tbody tr[data-passkey-id]").first().innerText()).not.toContain("never");
  });

  it("takes a recovery code at the second step instead of the passkey, once", async () => {
    await signOut();
    await password("user0001");
    await page.getByLabel("Code from your authenticator app, or a recovery code").fill(recoveryCodes[0] as string);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.waitForURL(`${h.url}/`);
    expect(await currentAmr()).toEqual(["pwd", "otp"]);
    await signOut();
    await password("user0001");
    await page.getByLabel("Code from your authenticator app, or a recovery code").fill(recoveryCodes[0] as string);
    await page.getByRole("button", { name: "Verify" }).click();
    expect(await page.getByRole("alert").innerText()).toContain("did not match");
    await page.getByRole("button", { name: "Use a passkey" }).click();
    await page.waitForURL(`${h.url}/`);
    expect(await currentAmr()).toEqual(["pwd", "hwk", "user", "mfa"]);
  });

  it("signs in usernameless with the passkey alone, and refuses the same assertion replayed", async () => {
    await signOut();
    let replay: { status: number; location: string | undefined } | undefined;
    await page.route(`${h.url}/login/passkey`, async (route) => {
      const first = await route.fetch({ maxRedirects: 0 });
      // The same request again (same cookies, same signed challenge): the challenge was taken by the first.
      const again = await route.fetch({ maxRedirects: 0 });
      replay = { status: again.status(), location: again.headers().location };
      await route.fulfill({ response: first });
    });
    await page.goto(`${h.url}/login`);
    await shot("login-with-passkey.png");
    await page.getByRole("button", { name: "Continue with a passkey" }).click();
    await page.waitForURL(`${h.url}/`);
    await page.unroute(`${h.url}/login/passkey`);
    expect(await currentAmr()).toEqual(["hwk", "user", "mfa"]);
    expect(await page.locator("header").innerText()).toContain("User 0001");
    expect(replay?.status).toBe(303);
    expect(replay?.location).toMatch(/\/login\?error=passkey_failed/);
  });

  it("removing the last factor, the passkey, needs a recovery code; then the passkey is refused", async () => {
    await page.goto(`${h.url}/passkeys`);
    await page.getByRole("button", { name: "Remove passkey virtual laptop" }).click();
    expect(await page.getByRole("alert").innerText()).toContain("last factor");
    expect(await page.locator("tbody tr[data-passkey-id]").count()).toBe(1);
    await page.getByLabel("A recovery code (needed to remove your last factor)").fill(recoveryCodes[1] as string);
    await page.getByRole("button", { name: "Remove passkey virtual laptop" }).click();
    await page.waitForURL(`${h.url}/passkeys?ok=removed`);
    expect(await page.locator("tbody tr[data-passkey-id]").count()).toBe(0);
    await signOut();
    // The authenticator still holds the credential; Archway no longer knows it.
    await page.getByRole("button", { name: "Continue with a passkey" }).click();
    await page.waitForURL(/\/login\?error=passkey_failed/);
    expect(await page.getByRole("alert").innerText()).toContain("passkey was not accepted");
    // And the password alone signs in again: no factor left (the recovery codes went with the last one).
    await password("user0001");
    await page.waitForURL(`${h.url}/`);
    expect(await currentAmr()).toEqual(["pwd"]);
  });

  it("keeps the pages' CSP strict: only Archway's two scripts (passkeys, SSO POST binding), by hash", async () => {
    const res = await page.request.get(`${h.url}/login`);
    const csp = res.headers()["content-security-policy"] ?? "";
    const scripts = /script-src ([^;]+)/.exec(csp)?.[1]?.split(" ") ?? [];
    expect(scripts.sort()).toEqual([PASSKEY_SCRIPT_HASH, SSO_POST_SCRIPT_HASH].sort());
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("default-src 'none'");
  });
});
