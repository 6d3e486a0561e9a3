import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOTP_PERIOD_SECONDS, totpCode } from "../../src/identity/index.js";
import { type FacadeHarness, startFacade } from "../integration/tokens/harness.js";
import { ARTIFACTS, launchChromium } from "./web-harness.js";

// Second factors in Debian's headless Chromium: a source with `mfa: required` forces enrolment at the first sign-in
// (the otpauth URI read from the page, a code confirmed), then password + TOTP, a recovery code (once), a wrong and
// a replayed code refused, and 5 wrong codes locking the (person, address) pair while another address still works.
// Addresses come through X-Forwarded-For from a trusted loopback proxy.
let h: FacadeHarness;
let browser: Browser;
let secret = "";
let recoveryCodes: string[] = [];
let enrolCode = "";
const STEP_MS = TOTP_PERIOD_SECONDS * 1000;

async function passwordStep(address: string): Promise<Page> {
  const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-for": address } });
  const page = await context.newPage();
  await page.goto(`${h.url}/login`);
  await page.getByLabel("Username").fill("alice");
  await page.getByLabel("Password").fill(h.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  return page;
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel("Code from your authenticator app, or a recovery code").fill(code);
  await page.getByRole("button", { name: "Verify" }).click();
}

const alert = (page: Page) => page.getByRole("alert").textContent();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startFacade(18131, {
    sourceMfa: "required",
    extraConfig: "http: { trustedProxies: [127.0.0.1] }\n",
  });
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("TOTP in the browser", () => {
  it("forces enrolment after the password: the otpauth URI from the page, a confirmation code, recovery codes", async () => {
    const page = await passwordStep("10.1.1.1");
    await expect.poll(() => page.getByRole("heading", { name: "Set up an authenticator app" }).count()).toBe(1);
    const uri = new URL((await page.locator(".qr").getAttribute("data-otpauth")) ?? "");
    expect(uri.protocol).toBe("otpauth:");
    expect(await page.locator(".qr svg").count()).toBe(1);
    secret = uri.searchParams.get("secret") ?? "";
    expect(await page.getByTestId("totp-secret").textContent()).toBe(secret);
    await page.screenshot({ path: join(ARTIFACTS, "mfa-enrol.png"), fullPage: true });
    // No session before the factor is confirmed.
    expect((await page.context().request.get(`${h.url}/api/v1/me`)).status()).toBe(401);
    await page.getByLabel("Code from the app").fill("000000");
    await page.getByRole("button", { name: "Confirm" }).click();
    expect(await alert(page)).toContain("did not match");
    // A wrong confirmation shows a new key: read it again.
    const again = new URL((await page.locator(".qr").getAttribute("data-otpauth")) ?? "");
    secret = again.searchParams.get("secret") ?? "";
    enrolCode = totpCode(secret, Date.now());
    await page.getByLabel("Code from the app").fill(enrolCode);
    await page.getByRole("button", { name: "Confirm" }).click();
    recoveryCodes = await page.locator(".recovery-codes code").allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.getByRole("link", { name: "Continue" }).click();
    await page.waitForURL(`${h.url}/`);
    const sessions = (await (await page.context().request.get(`${h.url}/api/v1/me/sessions`)).json()) as {
      sessions: { amr: string[] }[];
    };
    expect(sessions.sessions[0]?.amr).toEqual(["pwd", "otp"]);
    await page.context().close();
  });

  it("signs in with password + TOTP; a wrong code and the code already used are refused", async () => {
    const page = await passwordStep("10.1.1.1");
    await expect.poll(() => page.getByRole("form", { name: "Second factor" }).count()).toBe(1);
    await enterCode(page, "000000");
    expect(await alert(page)).toContain("did not match");
    // The code that confirmed the enrolment was used: a replay.
    await enterCode(page, enrolCode);
    expect(await alert(page)).toContain("used already");
    await page.screenshot({ path: join(ARTIFACTS, "mfa-refused.png"), fullPage: true });
    // The next step's code (within the ±1 window) has not been used.
    await enterCode(page, totpCode(secret, Date.now() + STEP_MS));
    await page.waitForURL(`${h.url}/`);
    // A second authenticator on the person's page, confirmed the same way (no new recovery codes).
    await page.getByRole("link", { name: "Second factors" }).click();
    await page.getByRole("button", { name: "Add an authenticator app" }).click();
    const tablet = new URL((await page.locator(".qr").getAttribute("data-otpauth")) ?? "");
    await page.getByLabel("Code from the app").fill(totpCode(tablet.searchParams.get("secret") ?? "", Date.now()));
    await page.getByRole("button", { name: "Confirm" }).click();
    expect(await page.locator("main").textContent()).toContain("Your new factor is active");
    await page.getByRole("link", { name: "Continue" }).click();
    expect(await page.getByRole("list", { name: "Factors" }).locator("li").count()).toBe(2);
    await page.screenshot({ path: join(ARTIFACTS, "mfa-factors.png"), fullPage: true });
    await page.context().close();
  });

  it("signs in with a recovery code once; the same code is refused the second time", async () => {
    const code = recoveryCodes[0] as string;
    const page = await passwordStep("10.1.1.2");
    await enterCode(page, code);
    await page.waitForURL(`${h.url}/`);
    await page.context().close();
    const again = await passwordStep("10.1.1.2");
    await enterCode(again, code);
    expect(await alert(again)).toContain("did not match");
    await again.context().close();
  });

  it("locks the (person, address) pair after 5 wrong codes, while another address still signs in", async () => {
    const page = await passwordStep("10.2.2.2");
    for (let i = 0; i < 5; i++) {
      await enterCode(page, String(100000 + i));
      expect(await alert(page)).toContain("did not match");
    }
    await enterCode(page, recoveryCodes[1] as string);
    expect(await alert(page)).toContain("Too many wrong codes");
    await page.screenshot({ path: join(ARTIFACTS, "mfa-locked.png"), fullPage: true });
    await page.context().close();
    const elsewhere = await passwordStep("10.3.3.3");
    await enterCode(elsewhere, recoveryCodes[1] as string);
    await elsewhere.waitForURL(`${h.url}/`);
    await elsewhere.context().close();
  });
});
