import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCode } from "../../src/identity/index.js";
import { type FleetHarness, seedFleetState, seedLargePlan, signInToFleet, startFleet } from "./fleet-harness.js";
import { ARTIFACTS, launchChromium } from "./web-harness.js";

// The admin pages at fleet scale in Debian's headless Chromium: 1,000 clouds (the test env's Keystones and edge
// clouds on dead loopback ports) with seeded statuses and history, a seeded 4,406-operation saved plan, and a
// person's page over real data (LDAP, sessions, a TOTP factor, lockouts, an application credential in a real
// Keystone). Screenshots go to test-artifacts/.
let h: FleetHarness;
let browser: Browser;
let states: Record<string, number>;

const signIn = (context: BrowserContext, username: string): Promise<Page> => signInToFleet(h, context, username);
const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
const facadeLogin = (username: string, password: string) =>
  fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: username, domain: { name: "corp" }, password } },
        },
      },
    }),
  });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startFleet(18131, 1000);
  states = await seedFleetState(h);
  browser = await launchChromium();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("an operator of 1,000 clouds", () => {
  let context: BrowserContext;
  let page: Page;

  it("sees the fleet's counts by state, one cell per cloud, filters and pages", async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await signIn(context, "user0010");
    await page.goto(`${h.url}/admin`);
    for (const [state, n] of Object.entries(states))
      expect(await page.locator(`[data-count=${state}]`).innerText()).toBe(`${state} ${n}`);
    expect(await page.locator("ul.fleet li").count()).toBe(1000);
    expect(await page.locator("tbody tr[data-cloud]").count()).toBe(50);
    await shot(page, "fleet-overview-1000.png");
    await page.goto(`${h.url}/admin?label=kind%3Dregion&state=ok`);
    const cells = page.locator("ul.fleet a[data-state]");
    expect(await cells.count()).toBeGreaterThan(50);
    expect(new Set(await cells.evaluateAll((as) => as.map((a) => a.getAttribute("data-state"))))).toEqual(
      new Set(["ok"]),
    );
  }, 120_000);

  it("reads a 4,406-operation saved plan on one screen, groups folded until opened", async () => {
    const id = await seedLargePlan(h, 4406);
    await page.goto(`${h.url}/admin/plan?id=${id}`);
    const summary = page.locator("section[aria-label='Plan summary']");
    expect(await summary.getAttribute("data-plan-total")).toBe("4406");
    expect(await page.locator("tfoot [data-plan-row=all]").innerText()).toMatch(/4,406/);
    expect(await page.locator("[role=alert]").innerText()).toContain("over maxDeletesPerRun.perCloud");
    expect(await page.locator("details.plan-group[open]").count()).toBe(0);
    // Folded, the page is about one screen high.
    const height = Number(await page.evaluate("document.documentElement.scrollHeight"));
    expect(height).toBeLessThan(2 * 900);
    await shot(page, "plan-summary-4406.png");
    await page.locator("[data-plan-action=revoke] > summary").click();
    await page.locator("[data-plan-action=revoke] details.plan-cloud > summary").first().click();
    expect(await page.locator("[data-plan-action=revoke] details.plan-cloud[open] li").first().innerText()).toMatch(
      /^revoke reader on ops from user\d{4}/,
    );
    await shot(page, "plan-summary-4406-revoke-open.png");
    expect(await page.locator("input[name=planId]").inputValue()).toBe(id);
  }, 120_000);

  it("sees the sync history as a chart drawn on the server, under the page's CSP", async () => {
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    const res = await page.goto(`${h.url}/admin/history?range=14d`);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(await page.locator("svg.chart rect.bar-runs").count()).toBeGreaterThan(30);
    expect(Number(await page.locator("svg.chart g[data-series=failures]").getAttribute("data-total"))).toBeGreaterThan(
      0,
    );
    expect(await page.locator("script").count()).toBe(0);
    const box = await page.locator("svg.chart").boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    await shot(page, "sync-history-14d.png");
    await page.goto(`${h.url}/admin/history`);
    await shot(page, "sync-history-24h.png");
    expect(errors).toEqual([]);
  }, 60_000);
});

describe("an administrator's view of a person", () => {
  let admin: Page;
  let person: BrowserContext;

  it("shows real sessions, a factor, lockouts and an application credential, and acts on each", async () => {
    person = await browser.newContext();
    const mine = await signIn(person, "user0001");
    // An application credential made in the real cloud-1 (just-in-time provisioning of the shadow user first).
    const csrf = await mine.locator("input[name=csrf]").first().inputValue();
    const made = await mine.request.post(`${h.url}/api/v1/me/application-credentials`, {
      headers: { "x-csrf-token": csrf },
      data: { project: "cloud-1:u-user0001", days: 7 },
    });
    expect(made.status(), await made.text()).toBe(201);
    // A TOTP factor, and a second session at the /v3 facade.
    const mfa = h.gateway.web.deps.mfa!;
    const identity = (await h.gateway.web.deps.lookupSources[0]!.lookup("user0001"))!;
    const enrol = await mfa.beginTotp(identity, "phone");
    await mfa.confirmTotp(identity, enrol.id, totpCode(enrol.secret, Date.now()));
    expect((await facadeLogin("user0001", "pass-user0001")).status).toBe(201);
    // Five wrong passwords from this address lock the (user0001, address) pair.
    for (let i = 0; i < 5; i++) expect((await facadeLogin("user0001", "wrong")).status).toBe(401);
    expect((await facadeLogin("user0001", "pass-user0001")).status).toBe(429);

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    admin = await signIn(ctx, "user0010");
    // Reached from the lockouts page.
    await admin.goto(`${h.url}/admin/lockouts`);
    await admin.locator("td.mono a", { hasText: "user0001" }).first().click();
    await admin.waitForURL(/\/admin\/people\?person=/);
    const section = admin.locator("section[aria-label=Person]");
    expect(await section.getAttribute("data-person")).toBe(identity.id);
    expect(await admin.locator("[data-tokens]").getAttribute("data-tokens")).toBe("2/0");
    expect(await admin.locator("tr[data-sid]").count()).toBe(2);
    expect(await admin.locator("[data-credential]").innerText()).toContain("cloud-1:u-user0001");
    const factors = await admin.locator("section[aria-label='Second factors']").innerText();
    expect(factors).toContain("totp phone");
    expect(factors).toContain("recovery");
    expect(factors).not.toContain(enrol.secret);
    expect(await admin.locator("section[aria-label='Sign-in lockouts'] li").count()).toBeGreaterThan(0);
    await shot(admin, "person-page.png");

    // Unlock: the right password works again.
    await admin.getByRole("button", { name: /Unlock/ }).click();
    await admin.waitForURL(/done=Unlocked/);
    expect((await facadeLogin("user0001", "pass-user0001")).status).toBe(201);
    // Remove the TOTP factor: the box must be ticked (the browser will not submit otherwise).
    await admin.locator("li[data-factor=totp] details > summary").click();
    await admin.locator("li[data-factor=totp] input[name=confirm]").check();
    await admin.locator("li[data-factor=totp] button", { hasText: "Remove" }).click();
    await admin.waitForURL(/done=Factor/);
    expect(await mfa.list(identity.id)).toEqual([]);
    // Revoke the application credential (deleted in the real Keystone), then end every session.
    await admin.locator("[data-credential] button", { hasText: "Revoke" }).click();
    await admin.waitForURL(/done=Application/);
    expect(await admin.locator("[data-credential]").count()).toBe(0);
    await admin.getByRole("button", { name: "End every session" }).click();
    await admin.waitForURL(/done=\d+/);
    expect(await admin.locator("tr[data-sid]").count()).toBe(0);
    await mine.goto(`${h.url}/`);
    expect(mine.url()).toContain("/login");
    await shot(admin, "person-page-after.png");

    // Every action is in the audit log with who acted; the audit page links the person.
    await admin.goto(`${h.url}/admin/audit?actor=user0010`);
    const log = await admin.locator("tbody").innerText();
    for (const type of ["login.unlocked", "mfa.removed", "appcred.revoked", "session.end_requested"])
      expect(log).toContain(type);
    await admin.goto(`${h.url}/admin/audit?type=mfa.removed`);
    await admin.locator("tbody a", { hasText: identity.id }).first().click();
    await admin.waitForURL(/\/admin\/people\?person=/);
    expect(await admin.locator("section[aria-label=Person]").getAttribute("data-person")).toBe(identity.id);
    // A bare username finds the person too.
    await admin.goto(`${h.url}/admin/people`);
    await admin.getByLabel("Username or identity id").fill("user0001");
    await admin.getByRole("button", { name: "Show" }).click();
    expect(await admin.locator("section[aria-label=Person]").getAttribute("data-person")).toBe(identity.id);
    await person.close();
  }, 180_000);
});

describe("an auditor (web.auditors)", () => {
  it("sees every admin page without its forms, and every action posted directly is refused with 403", async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(ctx, "user0002");
    const identity = (await h.gateway.web.deps.lookupSources[0]!.lookup("user0001"))!;
    for (const path of [
      "/admin",
      "/admin/plan",
      "/admin/history",
      "/admin/audit",
      "/admin/lockouts",
      "/admin/explain",
      "/admin/sessions",
      `/admin/people?person=${encodeURIComponent(identity.id)}`,
    ]) {
      const res = await page.goto(`${h.url}${path}`);
      expect(res?.status(), path).toBe(200);
      const actions = await page
        .locator("main form[method=post]")
        .evaluateAll((fs) => fs.map((f) => f.getAttribute("action")));
      expect(
        actions.filter((a) => a !== "/admin/explain"),
        path,
      ).toEqual([]);
      expect(await page.locator("main").innerText()).toContain("Read-only");
    }
    await shot(page, "person-page-auditor.png");
    const csrf = await page.locator("header input[name=csrf]").inputValue();
    const posts: [string, Record<string, string>][] = [
      ["/admin/sync/apply", { confirm: "yes", planId: "20990101T000000000Z-deadbeef" }],
      ["/admin/lockouts/unlock", { person: "user0001" }],
      ["/admin/sessions/end-all", { person: identity.id }],
      ["/admin/sessions/end", { sid: "00000000-0000-4000-8000-000000000000" }],
      ["/admin/people/sessions/end", { person: identity.id, sid: "all" }],
      ["/admin/people/tokens/drop", { person: identity.id }],
      ["/admin/people/app-credentials/revoke", { person: identity.id, id: "0".repeat(32) }],
      ["/admin/people/mfa/remove", { person: identity.id, id: "x", confirm: "yes" }],
      ["/admin/people/mfa/reset", { person: identity.id }],
      ["/admin/people/unlock", { person: identity.id }],
      ["/admin/people/offboard", { person: identity.id, confirm: "yes" }],
      ["/admin/people/undo", { person: identity.id, confirm: "yes" }],
    ];
    for (const [path, fields] of posts) {
      const res = await page.request.post(`${h.url}${path}`, { form: { csrf, ...fields }, maxRedirects: 0 });
      expect(res.status(), path).toBe(403);
      expect(await res.text(), path).toContain("web.auditors");
    }
    const api = (method: "POST" | "DELETE", path: string, data?: unknown) =>
      page.request.fetch(`${h.url}${path}`, { method, headers: { "x-csrf-token": csrf }, data });
    expect((await api("POST", "/api/v1/admin/unlock", { person: "user0001" })).status()).toBe(403);
    expect((await api("POST", "/api/v1/admin/mfa/reset", { person: identity.id })).status()).toBe(403);
    expect((await api("POST", "/api/v1/admin/sync/apply", { confirm: true, planId: "x" })).status()).toBe(403);
    expect((await api("DELETE", `/api/v1/admin/sessions?person=${encodeURIComponent(identity.id)}`)).status()).toBe(
      403,
    );
    // Reading through the API is allowed.
    expect((await page.request.get(`${h.url}/api/v1/admin/lockouts`)).status()).toBe(200);
    expect(((await (await page.request.get(`${h.url}/api/v1/me`)).json()) as { auditor: boolean }).auditor).toBe(true);
    // The explain form only reads: an auditor may use it.
    await page.goto(`${h.url}/admin/explain`);
    await page.getByLabel("Username").fill("user0001");
    await page.getByRole("button", { name: "Explain" }).click();
    expect(await page.locator("section[aria-label=Explanation]").innerText()).toContain("u-user0001");
    await ctx.close();
  }, 120_000);
});
