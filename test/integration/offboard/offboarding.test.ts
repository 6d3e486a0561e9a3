import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { createCloudClients } from "../../../src/openstack/index.js";
import { startService, stopService } from "../../env/control.js";
import { captureIO } from "../../helpers/io.js";
import { testClouds } from "../openstack/clouds.js";
import { ADMIN, type OffboardHarness, startOffboardHarness } from "./harness.js";
import { enrol, type Held, openPaths, untilRefused, webLogin } from "./paths.js";

// A person who used every path (facade, web pages, an OAuth refresh token, application credentials and brokered
// Keystone tokens in two clouds) loses all of them within the detection interval plus seconds when removed from
// or disabled in the real slapd, and within 10 s with the kill switch; a cloud that was down gets it when it is
// back. The application credentials and brokered tokens are presented straight to the real Keystones.
const DETECT_SECONDS = 3;
let h: OffboardHarness;
let keystone3Stopped = false;

beforeAll(async () => {
  h = await startOffboardHarness(18131, { detectSeconds: DETECT_SECONDS });
}, 60_000);

afterAll(async () => {
  if (keystone3Stopped) startService("keystone-3");
  await h?.close();
}, 120_000);

/** The first look of the detector sets the listing the next one is diffed against. */
async function baseline() {
  await h.gateway.offboard?.tick();
}

async function shadowUser(cloudId: string, username: string) {
  const cloud = testClouds({ domain: h.domain }).find((c) => c.id === cloudId);
  if (!cloud) throw new Error(cloudId);
  const clients = createCloudClients(cloud);
  try {
    const [domain] = await clients.keystone.listDomains({ name: h.domain });
    return (await clients.keystone.listUsers({ domainId: domain?.id, name: username }))[0];
  } finally {
    await clients.close();
  }
}

function expectAllOpen(open: Record<string, boolean>) {
  expect(Object.entries(open).filter(([, v]) => !v)).toEqual([]);
}

describe("offboarding against slapd and the real Keystones", () => {
  it("a person deleted from the directory loses every path within the detection interval plus seconds", async () => {
    const p: Held = await enrol(h, "ob-gone");
    await baseline();
    expectAllOpen(await openPaths(h, p));
    const since = Date.now();
    await h.removePerson(p.username);
    const result = await untilRefused(h, p, { since, deadlineSeconds: DETECT_SECONDS + 20 });
    console.log(`departed: every path refused after ${result.seconds.toFixed(1)} s`);
    expect(result.open).toEqual([]);
    expect(result.seconds).toBeLessThan(DETECT_SECONDS + 20);
    expect(await shadowUser("cloud-2", p.username)).toMatchObject({ enabled: false });
    const offboarded = await h.gateway.offboard?.offboarder.offboarded.get(p.identityId);
    expect(offboarded).toMatchObject({ cause: "departed", username: p.username });
  }, 120_000);

  it("people disabled in the directory (a disabled filter, a ppolicy lock) lose every path; enabled again, restored", async () => {
    const [p, q] = await Promise.all([enrol(h, "ob-disabled"), enrol(h, "ob-locked")]);
    if (!p || !q) throw new Error("enrol");
    await baseline();
    expectAllOpen(await openPaths(h, p));
    expectAllOpen(await openPaths(h, q));
    const since = Date.now();
    await h.disablePerson(p.username);
    await h.lockPerson(q.username);
    const results = await Promise.all(
      [p, q].map((who) => untilRefused(h, who, { since, deadlineSeconds: DETECT_SECONDS + 20 })),
    );
    console.log(`disabled: every path refused after ${results.map((r) => r.seconds.toFixed(1)).join(" s, ")} s`);
    expect(results.map((r) => r.open)).toEqual([[], []]);
    for (const who of [p, q])
      expect(await h.gateway.offboard?.offboarder.offboarded.get(who.identityId)).toMatchObject({ cause: "disabled" });

    await h.enablePerson(p.username);
    const until = Date.now() + (DETECT_SECONDS + 20) * 1000;
    while (Date.now() < until && !(await shadowUser("cloud-2", p.username))?.enabled)
      await new Promise((r) => setTimeout(r, 500));
    expect(await shadowUser("cloud-2", p.username)).toMatchObject({ enabled: true });
    expect(await h.gateway.offboard?.offboarder.offboarded.get(p.identityId)).toBeUndefined();
  }, 120_000);

  it("the kill switch (archway offboard, no directory change) cuts every path within 10 s; --undo restores", async () => {
    const p = await enrol(h, "ob-killed");
    expectAllOpen(await openPaths(h, p));
    const io = captureIO(process.env);
    const since = Date.now();
    const code = await runCli(["offboard", `${p.username}@corp`, "--json", "--config", h.configFile], io);
    expect(code, io.stderr()).toBe(0);
    const report = JSON.parse(io.stdout()) as { done: number; pending: number; clouds: { state: string }[] };
    expect(report).toMatchObject({ done: 3, pending: 0 });
    const result = await untilRefused(h, p, { since, deadlineSeconds: 10 });
    console.log(`kill switch: every path refused after ${result.seconds.toFixed(1)} s`);
    expect(result.open).toEqual([]);
    expect(result.seconds).toBeLessThan(10);
    // Still in the directory: a full sync must not re-enable them.
    await h.gateway.sync?.service.full();
    expect(await shadowUser("cloud-2", p.username)).toMatchObject({ enabled: false });

    expect(await runCli(["offboard", "--bogus", p.username], captureIO(process.env))).toBe(2);
    const undo = captureIO(process.env);
    expect(await runCli(["offboard", "--undo", `${p.username}@corp`, "--config", h.configFile], undo)).toBe(0);
    expect(undo.stdout()).toContain("3 of 3 clouds done");
    expect(await shadowUser("cloud-2", p.username)).toMatchObject({ enabled: true });
    expect(await h.gateway.offboard?.offboarder.offboarded.get(p.identityId)).toBeUndefined();
  }, 120_000);

  it("the admin page lists the person's sessions and credentials, and its offboard action cuts every path", async () => {
    const p = await enrol(h, "ob-by-admin");
    await h.addPerson(ADMIN, "operator-password");
    const cookie = await webLogin(h, ADMIN, "operator-password");
    const view = await fetch(`${h.url}/admin/people?person=${encodeURIComponent(`${p.username}@corp`)}`, {
      headers: { cookie },
    });
    const html = await view.text();
    expect(view.status, html).toBe(200);
    expect(html).toMatch(/login \(pwd/);
    expect(html).toContain(`cloud-3:u-${p.username}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
    const since = Date.now();
    const done = await fetch(`${h.url}/admin/people/offboard`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf, person: p.identityId, confirm: "yes", reason: "test" }),
    });
    const report = await done.text();
    expect(done.status, report).toBe(200);
    expect(report).toContain("3 of 3 clouds done");
    const result = await untilRefused(h, p, { since, deadlineSeconds: 10 });
    console.log(`admin page: every path refused after ${result.seconds.toFixed(1)} s`);
    expect(result.open).toEqual([]);
    const after = await (await fetch(`${h.url}/admin/people?person=${p.identityId}`, { headers: { cookie } })).text();
    expect(after).toContain("offboarded (kill-switch)");
    expect(after).toContain("none active");
  }, 120_000);

  it("a cloud stopped during offboarding gets the change after it comes back, and never holds the others", async () => {
    const p = await enrol(h, "ob-outage");
    await baseline();
    stopService("keystone-3");
    keystone3Stopped = true;
    const since = Date.now();
    await h.removePerson(p.username);
    const others = await untilRefused(h, p, { since, deadlineSeconds: DETECT_SECONDS + 20, clouds: ["cloud-2"] });
    expect(others.open).toEqual([]);
    // Queued once the attempt on the stopped cloud has failed (its retries and timeout spent).
    const queuedBy = Date.now() + 30_000;
    let pending = await h.gateway.offboard?.offboarder.pending.all();
    while (!pending?.["cloud-3"]?.[p.identityId] && Date.now() < queuedBy) {
      await new Promise((r) => setTimeout(r, 250));
      pending = await h.gateway.offboard?.offboarder.pending.all();
    }
    expect(pending?.["cloud-3"]?.[p.identityId]).toMatchObject({ action: "offboard", username: p.username });

    startService("keystone-3");
    keystone3Stopped = false;
    const back = Date.now();
    const result = await untilRefused(h, p, { since: back, deadlineSeconds: 90, clouds: ["cloud-3"] });
    console.log(
      `outage: cloud-2 refused after ${others.seconds.toFixed(1)} s, cloud-3 ${result.seconds.toFixed(1)} s after it came back`,
    );
    expect(result.open).toEqual([]);
    expect(await shadowUser("cloud-3", p.username)).toMatchObject({ enabled: false });
    const after = await h.gateway.offboard?.offboarder.pending.all();
    expect(after?.["cloud-3"]?.[p.identityId]).toBeUndefined();
  }, 240_000);
});
