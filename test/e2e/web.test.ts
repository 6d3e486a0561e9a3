import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { sshKey } from "../helpers/ssh-key.js";
import { ARTIFACTS, launchChromium, novaKeypairs, startWeb, type WebHarness } from "./web-harness.js";

// The web pages in Debian's headless Chromium against the real slapd, Keystones and nova-apis; the clouds.yaml
// they hand out is used by the real `openstack` CLI.
const run = promisify(execFile);
let h: WebHarness;
let browser: Browser;
const home = mkdtempSync(join(tmpdir(), "archway-web-home-"));

async function signIn(context: BrowserContext, username: string, shot?: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${h.url}/login`);
  if (shot) await page.screenshot({ path: join(ARTIFACTS, shot), fullPage: true });
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(`pass-${username}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${h.url}/`);
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startWeb(18097);
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("a person in the browser", () => {
  let context: BrowserContext;
  let page: Page;

  it("signs in with an LDAP password and sees exactly the clouds the policies grant", async () => {
    context = await browser.newContext({ acceptDownloads: true });
    page = await signIn(context, "user0001", "login.png");
    const rows = page.locator("tbody tr[data-cloud]");
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-cloud")))).toEqual([
      "cloud-1",
      "cloud-2",
    ]);
    await expect.poll(() => page.locator("main").innerText()).toContain("cloud-1:u-user0001");
    expect(await page.locator("main").innerText()).not.toContain("ops");
    await shot(page, "my-clouds.png");
  });

  it("downloads a clouds.yaml that the real openstack CLI uses", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download clouds.yaml" }).click(),
    ]);
    const file = join(home, "clouds.yaml");
    await download.saveAs(file);
    const yaml = parse(readFileSync(file, "utf8")) as { clouds: Record<string, { regions: string[] }> };
    // One entry per project, with the clouds where it exists as its regions.
    expect(Object.keys(yaml.clouds)).toEqual(["u-user0001"]);
    expect(yaml.clouds["u-user0001"]?.regions).toEqual(["cloud-1", "cloud-2"]);
    const { stdout } = await run(
      "/usr/bin/openstack",
      [
        ...["--os-cloud", "u-user0001", "--os-region-name", "cloud-2", "--os-password", "pass-user0001"],
        ...["project", "list", "-f", "json"],
      ],
      { env: { PATH: "/usr/bin:/bin", HOME: home, OS_CLIENT_CONFIG_FILE: file }, timeout: 60_000 },
    );
    const names = (JSON.parse(stdout) as { Name: string }[]).map((p) => p.Name).sort();
    expect(names).toEqual(["u-user0001"]);
  }, 90_000);

  const key = sshKey("e2e@laptop");
  it("adds an SSH key, which sync puts into the real nova-api", async () => {
    await page.getByLabel("Add a public key").fill(key);
    await page.getByRole("button", { name: "Add key" }).click();
    await page.waitForURL(/\?ok=key_added/);
    expect(await page.locator("[role=status]").innerText()).toContain("Key added");
    const row = page.locator("tr[data-fingerprint]", { hasText: "e2e@laptop" });
    expect(await row.innerText()).toMatch(/cloud-1:\s*synced/);
    expect(await row.innerText()).toMatch(/cloud-2:\s*synced/);
    for (const cloud of ["cloud-1", "cloud-2"]) {
      const pairs = await novaKeypairs(h, cloud, "user0001");
      expect(pairs.map((p) => p.public_key.split(" ").slice(0, 2).join(" "))).toContain(
        key.split(" ").slice(0, 2).join(" "),
      );
    }
    await shot(page, "my-clouds-key.png");
  }, 90_000);

  it("refuses a duplicate key and renders a script or @import comment inert", async () => {
    await page.getByLabel("Add a public key").fill(key.replace("e2e@laptop", "again"));
    await page.getByRole("button", { name: "Add key" }).click();
    expect(await page.locator("[role=alert]").innerText()).toContain("already have this key");
    let dialogs = 0;
    page.on("dialog", async (d) => {
      dialogs++;
      await d.dismiss();
    });
    const evil = `<script>alert(1)</script><style>@import url(/x.css);</style>`;
    await page.getByLabel("Add a public key").fill(sshKey(evil));
    await page.getByRole("button", { name: "Add key" }).click();
    await page.waitForURL(/\?ok=key_added/);
    expect(await page.locator("script").count()).toBe(0);
    expect(await page.locator("main style").count()).toBe(0);
    expect(await page.locator(".key-comment", { hasText: "<script>" }).innerText()).toBe(evil);
    expect(dialogs).toBe(0);
    await shot(page, "my-clouds-injection.png");
  }, 90_000);

  it("removes the key, and sync takes it out of nova", async () => {
    const row = page.locator("tr[data-fingerprint]", { hasText: "e2e@laptop" });
    await row.getByRole("button", { name: /Remove/ }).click();
    await page.waitForURL(/\?ok=key_removed/);
    expect(await page.locator("tr[data-fingerprint]", { hasText: "e2e@laptop" }).count()).toBe(0);
    for (const cloud of ["cloud-1", "cloud-2"]) {
      const pairs = await novaKeypairs(h, cloud, "user0001");
      expect(pairs.map((p) => p.public_key.split(" ").slice(0, 2).join(" "))).not.toContain(
        key.split(" ").slice(0, 2).join(" "),
      );
    }
  }, 90_000);

  it("is refused /admin with 403", async () => {
    const res = await page.goto(`${h.url}/admin`);
    expect(res?.status()).toBe(403);
    await shot(page, "admin-forbidden.png");
    const api = await page.request.get(`${h.url}/api/v1/admin/plan`);
    expect(api.status()).toBe(403);
  });

  it("signs out, and the old page sends them to the login page", async () => {
    await page.goto(`${h.url}/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/login\?signed_out/);
    await page.goto(`${h.url}/`);
    expect(page.url()).toBe(`${h.url}/login?return_to=%2F`);
    await context.close();
  });
});

describe("an operator in the browser", () => {
  let page: Page;
  it("sees cloud health, the plan with its policies, applies it, and reads the audit log", async () => {
    const context = await browser.newContext();
    page = await signIn(context, "user0010");
    await page.getByRole("link", { name: "Admin" }).click();
    const clouds = page.locator("tbody tr[data-cloud]");
    expect(await clouds.count()).toBe(3);
    expect(await clouds.first().innerText()).toContain("reachable");
    await shot(page, "admin.png");

    await page.getByRole("link", { name: "Sync plan" }).click();
    const cloud3 = page.locator("[data-plan-cloud=cloud-3]");
    expect(await cloud3.innerText()).toContain("create project");
    expect(await cloud3.innerText()).toContain("ops");
    await shot(page, "admin-plan.png");
    // The browser will not submit without the confirmation box (required); the server refuses it too.
    await page.getByLabel(/I reviewed this plan/).check();
    await page.getByRole("button", { name: "Apply the plan" }).click();
    await page.waitForURL(/\/admin\?applied=/, { timeout: 120_000 });

    await page.goto(`${h.url}/admin/audit?type=keys.added`);
    const text = await page.locator("tbody").innerText();
    expect(text).toContain("keys.added");
    expect(text).toContain("user0001");
    expect(text).not.toContain("login.success");
    await page.goto(`${h.url}/admin/audit?actor=user0010`);
    expect(await page.locator("tbody").innerText()).toContain("sync.run");
    await shot(page, "admin-audit.png");

    await page.goto(`${h.url}/admin/explain`);
    await page.getByLabel("Username").fill("user0001");
    await page.getByRole("button", { name: "Explain" }).click();
    const explained = await page.locator("section[aria-label=Explanation]").innerText();
    expect(explained).toContain("u-user0001 (member) ← devs");
    expect(explained).toMatch(/ops\s*\(allow\)\s*no\s*subjects\.groups\.anyOf/);
    await shot(page, "admin-explain.png");

    // Apply takes the reviewed plan by its id: an unknown (or expired) one is refused, a missing one too.
    await page.goto(`${h.url}/admin/plan`);
    const csrf = await page.locator("input[name=csrf]").first().inputValue();
    const planId = await page.locator("input[name=planId]").inputValue();
    expect(planId).toMatch(/^\d{8}T\d+Z-[0-9a-f]{8}$/);
    const post = (form: Record<string, string>) =>
      page.request.post(`${h.url}/admin/sync/apply`, { form, maxRedirects: 0 });
    const unknown = await post({ csrf, confirm: "yes", planId: "20990101T000000000Z-deadbeef" });
    expect(unknown.status()).toBe(409);
    expect(await unknown.text()).toContain("review the plan again");
    expect((await post({ csrf, confirm: "yes" })).status()).toBe(400);
    await context.close();
  }, 180_000);
});
