import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { quotaCommand } from "../../src/cli/quota.js";
import type { QuotaReport } from "../../src/quota/index.js";
import { keystoneAdminToken } from "../env/control.js";
import { captureIO } from "../helpers/io.js";
import { type FleetHarness, signInToFleet, startFleet } from "./fleet-harness.js";
import { ARTIFACTS, launchChromium } from "./web-harness.js";

// Issue #27: /admin/quotas in Debian's headless Chromium against the real clouds. Sync makes `quota-team` in cloud-1
// and cloud-2 (Archway-owned); the test then sets its quotas directly with Nova's, Cinder's and Neutron's own APIs
// and uses some of them, and the page shows limits and usage per cloud and across clouds, beside a stand-in edge
// cloud that is down. The JSON behind it is what `archway quota report --json` prints.
let h: FleetHarness;
let browser: Browser;
const projects: Record<string, string> = {};
let securityGroup: string | undefined;
let groupsInUse: number;

const POLICY =
  "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: quota-team }\nspec:\n" +
  "  subjects: { usernames: [user0001] }\n  clouds: { names: [cloud-1, cloud-2] }\n" +
  "  grants: [{ project: quota-team, roles: [member] }]\n";

const service = (kind: "novas" | "cinders" | "neutrons", cloud: string) =>
  h.env[kind].find((s) => s.cloud === cloud)!.url;

async function call(cloud: string, method: string, url: string, body?: unknown): Promise<Response> {
  const token = await keystoneAdminToken(cloud);
  return fetch(url, {
    method,
    headers: { "x-auth-token": token, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const signIn = (context: BrowserContext, username: string): Promise<Page> => signInToFleet(h, context, username);

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // The three real clouds and one edge cloud nobody answers for.
  h = await startFleet(18172, 4, { policies: { "quota-team": POLICY } });
  const person = await h.gateway.web.deps.lookupSources[0]!.lookup("user0001");
  for (const cloudId of ["cloud-1", "cloud-2"]) {
    await h.gateway.sync!.service.person(person!, { cloudId });
    const clients = h.gateway.sync!.clients(h.runtime.loaded.config.clouds.find((c) => c.id === cloudId)!);
    const domain = (await clients.keystone.listDomains()).find((d) => d.name === h.domain);
    const [project] = await clients.keystone.listProjects({ name: "quota-team", domainId: domain!.id });
    projects[cloudId] = project!.id;
  }
  // Quotas set by hand with each service's own API, as an operator would.
  const p1 = projects["cloud-1"]!;
  const p2 = projects["cloud-2"]!;
  for (const [cloud, url, body] of [
    ["cloud-1", `${service("novas", "cloud-1")}/os-quota-sets/${p1}`, { quota_set: { cores: 17 } }],
    ["cloud-2", `${service("novas", "cloud-2")}/os-quota-sets/${p2}`, { quota_set: { cores: 23 } }],
    ["cloud-2", `${service("cinders", "cloud-2")}/os-quota-sets/${p2}`, { quota_set: { volumes: 7 } }],
    ["cloud-2", `${service("neutrons", "cloud-2")}/v2.0/quotas/${p2}`, { quota: { security_group: 11 } }],
  ] as const) {
    const res = await call(cloud, "PUT", url, body);
    expect(res.status, url).toBe(200);
  }
  // Something in use: a security group of the project in cloud-2 (Neutron adds the project's default one).
  const created = await call("cloud-2", "POST", `${service("neutrons", "cloud-2")}/v2.0/security-groups`, {
    security_group: { name: "quota-page-probe", project_id: p2 },
  });
  expect(created.status).toBe(201);
  securityGroup = ((await created.json()) as { security_group: { id: string } }).security_group.id;
  const details = (await (
    await call("cloud-2", "GET", `${service("neutrons", "cloud-2")}/v2.0/quotas/${p2}/details`)
  ).json()) as { quota: { security_group: { used: number } } };
  groupsInUse = details.quota.security_group.used;
  expect(groupsInUse).toBeGreaterThanOrEqual(1);
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  if (securityGroup)
    await call("cloud-2", "DELETE", `${service("neutrons", "cloud-2")}/v2.0/security-groups/${securityGroup}`);
  for (const [cloud, id] of Object.entries(projects)) {
    await call(cloud, "DELETE", `${service("novas", cloud)}/os-quota-sets/${id}`);
    await call(cloud, "DELETE", `${service("cinders", cloud)}/os-quota-sets/${id}`);
    await call(cloud, "DELETE", `${service("neutrons", cloud)}/v2.0/quotas/${id}`);
  }
  await h?.close();
});

describe("the quotas page", () => {
  it("shows an owned project's limits and usage per cloud and across clouds; a cloud that is down is named", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await signIn(context, "user0010");
    await page.goto(`${h.url}/admin`);
    await page.getByRole("link", { name: "Quotas" }).click();
    await page.waitForURL(`${h.url}/admin/quotas`);
    const card = page.locator("section[data-project=quota-team]");
    const cell = (table: string, row: string, resource: string) =>
      card.locator(`table[data-service=${table}] ${row} td[data-resource=${resource}]`);
    expect(await cell("compute", "tr[data-cloud=cloud-1]", "cores").getAttribute("data-limit")).toBe("17");
    expect(await cell("compute", "tr[data-cloud=cloud-2]", "cores").getAttribute("data-limit")).toBe("23");
    expect(await cell("compute", "tfoot tr", "cores").getAttribute("data-limit")).toBe("40");
    expect(await cell("volume", "tr[data-cloud=cloud-2]", "volumes").getAttribute("data-limit")).toBe("7");
    const groups = cell("network", "tr[data-cloud=cloud-2]", "security_group");
    expect(await groups.getAttribute("data-limit")).toBe("11");
    expect(await groups.getAttribute("data-in-use")).toBe(String(groupsInUse));
    expect(await groups.innerText()).toBe(`${groupsInUse} / 11`);
    const down = page.locator("details[aria-label='Unavailable clouds'] li[data-cloud=edge-0001]");
    expect(await down.getAttribute("data-status")).toBe("unavailable");
    await page.screenshot({ path: join(ARTIFACTS, "admin-quotas.png"), fullPage: true });

    // Filtered to one cloud: that cloud's rows and totals only.
    await page.getByLabel("Cloud", { exact: true }).fill("cloud-2");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/cloud=cloud-2/);
    expect(await card.locator("table[data-service=compute] tbody tr").count()).toBe(1);
    expect(await cell("compute", "tfoot tr", "cores").getAttribute("data-limit")).toBe("23");
    expect(await page.locator("details[aria-label='Unavailable clouds']").count()).toBe(0);
    await context.close();
  }, 120_000);

  it("answers with the page's CSP, and reads the clouds at most once a minute", async () => {
    const context = await browser.newContext();
    const page = await signIn(context, "user0010");
    const first = await page.request.get(`${h.url}/admin/quotas`);
    expect(first.headers()["content-security-policy"]).toContain("default-src 'none'");
    expect(first.headers()["cache-control"]).toBe("no-store");
    const a = await page.request.get(`${h.url}/api/v1/admin/quotas`);
    const b = await page.request.get(`${h.url}/api/v1/admin/quotas?cloud=cloud-1`);
    expect(a.headers()["last-modified"]).toBeTruthy();
    expect(b.headers()["last-modified"]).toBe(a.headers()["last-modified"]);
    await context.close();
  });

  it("its JSON is what `archway quota report --json` prints", async () => {
    const context = await browser.newContext();
    const page = await signIn(context, "user0010");
    const api = (await (await page.request.get(`${h.url}/api/v1/admin/quotas?refresh=1`)).json()) as QuotaReport;
    const io = captureIO(process.env);
    await quotaCommand.run(["report", "--json", "--config", h.configFile], io);
    const cli = JSON.parse(io.stdout()) as QuotaReport;
    const shape = (r: QuotaReport) => ({
      clouds: r.clouds.map((c) => [c.cloud, c.status, c.projects.map((p) => [p.domain, p.name, p.services])]),
      team: r.projects.find((p) => p.name === "quota-team"),
    });
    expect(shape(api)).toEqual(shape(cli));
    expect(shape(api).team?.clouds).toEqual(["cloud-1", "cloud-2"]);
    await context.close();
  }, 120_000);

  it("refuses a person web.admins does not name; an auditor may read it", async () => {
    const context = await browser.newContext();
    const person = await signIn(context, "user0001");
    const res = await person.goto(`${h.url}/admin/quotas`);
    expect(res?.status()).toBe(403);
    expect((await person.request.get(`${h.url}/api/v1/admin/quotas`)).status()).toBe(403);
    await context.close();
    const auditorContext = await browser.newContext();
    const auditor = await signIn(auditorContext, "user0002");
    expect((await auditor.goto(`${h.url}/admin/quotas`))?.status()).toBe(200);
    expect(await auditor.locator("main").innerText()).toContain("Read-only");
    await auditorContext.close();
  });
});
