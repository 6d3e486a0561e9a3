import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCloudClients } from "../../../src/openstack/index.js";
import { testClouds } from "../openstack/clouds.js";
import { type OffboardHarness, startOffboardHarness } from "./harness.js";
import { enrol, type Held, openPaths, untilRefused } from "./paths.js";

// With RFC 4533 content synchronisation from the real slapd (syncprov), a person deleted from the directory,
// disabled in it, locked, or moved out of the people base loses every path (a new login, the facade token, a
// proxied request, and straight at the real Keystones the brokered token and the application credential) within
// seconds, while the listing looks only every 300 s: the watch, not the listing, found them. The bound is coarse
// (20 s against a 300 s interval).
const DETECT_SECONDS = 300;
const BOUND_SECONDS = 20;
let h: OffboardHarness;
let elsewhere = "";

beforeAll(async () => {
  // `auto`: the watch starts because slapd's root DSE lists the Sync Request control.
  h = await startOffboardHarness(18132, { detectSeconds: DETECT_SECONDS, syncrepl: "auto" });
  elsewhere = `ou=moved-${h.ou.slice(3, h.ou.indexOf(","))},${h.env.ldap.baseDn}`;
  await h.ldap.add(elsewhere, { objectClass: ["organizationalUnit"], ou: elsewhere.slice(3, elsewhere.indexOf(",")) });
}, 60_000);

afterAll(async () => {
  if (h) {
    const { searchEntries } = await h.ldap.search(elsewhere, { scope: "one", attributes: ["1.1"] }).catch(() => ({
      searchEntries: [],
    }));
    for (const e of searchEntries) await h.ldap.del(e.dn).catch(() => {});
    await h.ldap.del(elsewhere).catch(() => {});
  }
  await h?.close();
}, 120_000);

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

async function offboarded(p: Held) {
  return h.gateway.offboard?.offboarder.offboarded.get(p.identityId);
}

describe("departures heard through syncrepl (real slapd, real Keystones)", () => {
  it("a person deleted from the directory loses every path within seconds, long before the next look", async () => {
    const p = await enrol(h, "sr-gone");
    expectAllOpen(await openPaths(h, p));
    const since = Date.now();
    await h.removePerson(p.username);
    const result = await untilRefused(h, p, { since, deadlineSeconds: BOUND_SECONDS });
    console.log(`syncrepl departure: every path refused after ${result.seconds.toFixed(1)} s`);
    expect(result.open).toEqual([]);
    expect(result.seconds).toBeLessThan(BOUND_SECONDS);
    expect(await offboarded(p)).toMatchObject({ cause: "departed", reason: "gone from corp (syncrepl)" });
    expect(await shadowUser("cloud-3", p.username)).toMatchObject({ enabled: false });
  }, 120_000);

  it("people disabled (the disabled filter) or locked (ppolicy) lose every path within seconds; enabled again, restored", async () => {
    const [p, q] = await Promise.all([enrol(h, "sr-disabled"), enrol(h, "sr-locked")]);
    if (!p || !q) throw new Error("enrol");
    expectAllOpen(await openPaths(h, p));
    expectAllOpen(await openPaths(h, q));
    const since = Date.now();
    await h.disablePerson(p.username);
    await h.lockPerson(q.username);
    const results = await Promise.all(
      [p, q].map((who) => untilRefused(h, who, { since, deadlineSeconds: BOUND_SECONDS })),
    );
    console.log(
      `syncrepl disable: every path refused after ${results.map((r) => r.seconds.toFixed(1)).join(" s, ")} s`,
    );
    expect(results.map((r) => r.open)).toEqual([[], []]);
    for (const r of results) expect(r.seconds).toBeLessThan(BOUND_SECONDS);
    for (const who of [p, q]) expect(await offboarded(who)).toMatchObject({ cause: "disabled" });

    await h.enablePerson(p.username);
    const until = Date.now() + BOUND_SECONDS * 1000;
    while (Date.now() < until && !(await shadowUser("cloud-2", p.username))?.enabled)
      await new Promise((r) => setTimeout(r, 500));
    expect(await shadowUser("cloud-2", p.username)).toMatchObject({ enabled: true });
    expect(await offboarded(p)).toBeUndefined();
  }, 180_000);

  it("a person moved out of the people base is a departure too", async () => {
    const p = await enrol(h, "sr-moved");
    expectAllOpen(await openPaths(h, p));
    const since = Date.now();
    await h.ldap.modifyDN(`uid=${p.username},${h.ou}`, `uid=${p.username},${elsewhere}`);
    const result = await untilRefused(h, p, { since, deadlineSeconds: BOUND_SECONDS });
    console.log(`syncrepl move: every path refused after ${result.seconds.toFixed(1)} s`);
    expect(result.open).toEqual([]);
    expect(await offboarded(p)).toMatchObject({ cause: "departed" });
  }, 120_000);
});
