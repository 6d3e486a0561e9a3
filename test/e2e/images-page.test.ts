import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { showImageStatus } from "../../src/cli/images.js";
import { type ImageStatusRow, type ImageStatusSnapshot, writeImageStatus } from "../../src/images/index.js";
import { captureIO } from "../helpers/io.js";
import { type FleetHarness, signInToFleet, startFleet } from "./fleet-harness.js";
import { ARTIFACTS, launchChromium } from "./web-harness.js";

// Issue #28: /admin/images in Debian's headless Chromium. The page reads only the status snapshot the image
// distribution writes to the store (src/images/status.ts); the distribution itself, against the real Glance
// servers, is tested elsewhere. So the snapshot is written here with writeImageStatus into the store of the running
// Archway, as the distributor would write it mid-run: present in cloud-1, streaming to cloud-2, refused by
// cloud-3's verification, waiting for an edge cloud that is down.
let h: FleetHarness;
let browser: Browser;
const MiB = 1024 * 1024;
const V2 = `sha512:${"b".repeat(128)}`;
const V1 = `sha512:${"a".repeat(128)}`;

const row = (r: Partial<ImageStatusRow> & Pick<ImageStatusRow, "cloudId" | "state">): ImageStatusRow => ({
  imageSet: "base",
  image: "ubuntu-24.04",
  version: V2,
  updatedAt: new Date().toISOString(),
  ...r,
});

function snapshot(cloud2: Partial<ImageStatusRow>, running: boolean): ImageStatusSnapshot {
  return {
    writtenAt: new Date().toISOString(),
    running,
    rows: [
      row({ cloudId: "cloud-1", state: "present", imageId: "0b7c" }),
      row({ cloudId: "cloud-2", state: "transferring", bytesDone: 128 * MiB, totalBytes: 256 * MiB, ...cloud2 }),
      row({
        cloudId: "cloud-3",
        state: "failed",
        code: "image_verification_failed",
        reason: "Glance's sha512 differs from the source's; the image was deleted",
      }),
      row({ cloudId: "edge-0001", state: "pending", code: "cloud_unavailable", reason: "Keystone did not answer" }),
      row({ cloudId: "cloud-1", state: "present", version: V1, updatedAt: "2026-11-01T00:00:00.000Z" }),
    ],
  };
}

const signIn = (context: BrowserContext, username: string): Promise<Page> => signInToFleet(h, context, username);

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  h = await startFleet(18282, 4);
  await writeImageStatus(h.runtime.store, snapshot({}, true));
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe("the images page", () => {
  it("shows images x clouds with a state per cell, and reloads itself while transfers run", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, "user0010");
    const violations: string[] = [];
    page.on("console", (m) => {
      if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${h.url}/admin`);
    await page.getByRole("link", { name: "Images" }).click();
    await page.waitForURL(`${h.url}/admin/images`);
    const cell = (cloud: string, n: number) => page.locator(`tr[data-cloud=${cloud}] td`).nth(n);
    // Columns: the new ubuntu version, then the old one.
    expect(
      await page.locator("thead th[data-image]").evaluateAll((ths) => ths.map((t) => t.dataset.version?.slice(0, 8))),
    ).toEqual(["sha512:b", "sha512:a"]);
    expect(await cell("cloud-1", 0).getAttribute("data-state")).toBe("present");
    expect(await cell("cloud-1", 1).getAttribute("data-state")).toBe("present");
    const streaming = cell("cloud-2", 0);
    expect(await streaming.getAttribute("data-state")).toBe("transferring");
    expect(await streaming.textContent()).toContain("128.0 MiB of 256.0 MiB (50%)");
    expect(await streaming.locator("progress").getAttribute("max")).toBe(String(256 * MiB));
    expect(await cell("cloud-2", 1).getAttribute("data-state")).toBe("none");
    expect(await cell("cloud-3", 0).textContent()).toContain("image_verification_failed: Glance's sha512 differs");
    expect(await cell("edge-0001", 0).textContent()).toContain("cloud_unavailable");
    expect(await page.locator("[data-count=failed]").textContent()).toBe("failed 1");
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "admin-images.png"), fullPage: true });

    // The distributor writes again: the open page shows it by itself (a meta refresh every 5 s; bound coarse).
    await writeImageStatus(h.runtime.store, snapshot({ bytesDone: 192 * MiB }, true));
    await page.locator("tr[data-cloud=cloud-2] td", { hasText: "(75%)" }).waitFor({ timeout: 20_000 });

    // The run ends: cloud-2 present, and the page stops reloading.
    await writeImageStatus(
      h.runtime.store,
      snapshot({ state: "present", bytesDone: undefined, totalBytes: undefined }, false),
    );
    await page.locator("tr[data-cloud=cloud-2] td[data-state=present]").first().waitFor({ timeout: 20_000 });
    expect(await page.locator("meta[http-equiv=refresh]").count()).toBe(0);
    expect(violations).toEqual([]);
    await context.close();
  }, 120_000);

  it("filters by state; its JSON is what `archway images status --json` prints", async () => {
    const context = await browser.newContext();
    const page = await signIn(context, "user0010");
    await page.goto(`${h.url}/admin/images`);
    await page.getByLabel("State", { exact: true }).selectOption("failed");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/state=failed/);
    expect(await page.locator("tbody tr").evaluateAll((trs) => trs.map((t) => t.dataset.cloud))).toEqual(["cloud-3"]);

    const res = await page.request.get(`${h.url}/api/v1/admin/images?cloud=cloud-1`);
    expect(res.headers()["cache-control"]).toBe("no-store");
    const api = await res.json();
    const io = captureIO();
    await showImageStatus(h.runtime.store, { cloud: "cloud-1" }, { json: true }, io);
    expect(api).toEqual(JSON.parse(io.stdout()));
    expect((api as ImageStatusSnapshot).rows).toHaveLength(2);
    await context.close();
  }, 60_000);

  it("refuses a person web.admins does not name; an auditor may read it", async () => {
    const context = await browser.newContext();
    const person = await signIn(context, "user0001");
    expect((await person.goto(`${h.url}/admin/images`))?.status()).toBe(403);
    expect((await person.request.get(`${h.url}/api/v1/admin/images`)).status()).toBe(403);
    await context.close();
    const auditorContext = await browser.newContext();
    const auditor = await signIn(auditorContext, "user0002");
    const res = await auditor.goto(`${h.url}/admin/images`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await auditorContext.close();
  }, 60_000);
});
