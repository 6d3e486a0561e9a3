import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CloudClients, createGlanceClient, type GlanceClient } from "../../../src/openstack/index.js";
import { keystoneAdminToken } from "../../env/control.js";
import { openstackJson } from "../../helpers/openstack-cli.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Issue #28: the real `openstack` CLI through Archway's /v3 facade and proxy sees the images of cloud-2's real
// Glance. Three images are made by hand, directly in Glance as cloud-2's admin (the distributor is tested
// elsewhere): a public one; a private one owned by alice's project in cloud-2, which only that project sees; and
// one the admin's project shares with alice's. The facade knows the project by its own id, Glance by cloud-2's:
// `image list --project u-alice` sends the facade's id as `owner=`, which the proxy maps.
let h: FacadeHarness;
let glance: GlanceClient;
let closeGlance: (() => Promise<void>) | undefined;
const home = mkdtempSync(join(tmpdir(), "archway-cli-images-"));
const suffix = randomBytes(3).toString("hex");
const publicName = `hand-public-${suffix}`;
const privateName = `hand-private-${suffix}`;
const sharedName = `hand-shared-${suffix}`;
const made: string[] = [];
let projectId: string;

function openstack(args: string[], region: string): Promise<unknown> {
  return openstackJson({ url: h.url, username: "alice", password: h.password, project: "u-alice", region, home }, args);
}

async function makeImage(name: string, visibility: "public" | "private" | "shared", owner?: string): Promise<string> {
  // `owner` is a top-level attribute of the create body; the client spreads properties there, which is where it goes.
  const image = await glance.create({
    name,
    diskFormat: "raw",
    containerFormat: "bare",
    visibility,
    ...(owner ? { properties: { owner } } : {}),
  });
  made.push(image.id);
  await glance.upload(image.id, Readable.from([Buffer.from(`archway ${name}\n`)]));
  return image.id;
}

beforeAll(async () => {
  h = await startFacade(18281);
  const alice = await h.gateway.web.deps.lookupSources[0]!.lookup("alice");
  await h.gateway.sync!.service.person(alice!, { cloudId: "cloud-2" });
  const clients: CloudClients = h.gateway.sync!.clients(
    h.runtime.loaded.config.clouds.find((c) => c.id === "cloud-2")!,
  );
  const domain = (await clients.keystone.listDomains()).find((d) => d.name === h.domain);
  const [project] = await clients.keystone.listProjects({ name: "u-alice", domainId: domain!.id });
  projectId = project!.id;
  ({ glance, close: closeGlance } = createGlanceClient(clients));
  await makeImage(publicName, "public");
  await makeImage(privateName, "private", projectId);
  // Shared by the admin's project with alice's project in cloud-2, accepted on its behalf (the admin may).
  const shared = await makeImage(sharedName, "shared");
  const glance2 = h.env.glances.find((g) => g.cloud === "cloud-2")!.url;
  const admin = await keystoneAdminToken("cloud-2");
  const headers = { "x-auth-token": admin, "content-type": "application/json" };
  const added = await fetch(`${glance2}/v2/images/${shared}/members`, {
    method: "POST",
    headers,
    body: JSON.stringify({ member: projectId }),
  });
  expect(added.status).toBe(200);
  const accepted = await fetch(`${glance2}/v2/images/${shared}/members/${projectId}`, {
    method: "PUT",
    headers,
    body: JSON.stringify({ status: "accepted" }),
  });
  expect(accepted.status).toBe(200);
}, 180_000);

afterAll(async () => {
  for (const id of made) await glance?.delete(id).catch(() => undefined);
  await closeGlance?.();
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

type Listed = { ID: string; Name: string; Status: string }[];

describe("the openstack CLI through the facade sees cloud-2's Glance", () => {
  it("catalog list: the image service of cloud-2 through Archway", async () => {
    const catalog = (await openstack(["catalog", "list"], "cloud-2")) as { Type: string; Endpoints: unknown }[];
    expect(JSON.stringify(catalog.find((s) => s.Type === "image")?.Endpoints)).toContain(
      `${h.url}/clouds/cloud-2/image`,
    );
  });

  it("version discovery at Glance's root answers through the proxy, its links pointing back through Archway", async () => {
    // keystoneauth reads the unversioned root first to pick v2; a link to Glance's own address would leave Archway.
    const { id } = (await openstack(["token", "issue"], "cloud-2")) as { id: string };
    const res = await fetch(`${h.url}/clouds/cloud-2/image/`, { headers: { "x-auth-token": id } });
    expect(res.status).toBe(300);
    const body = (await res.json()) as { versions: { id: string; links: { href: string }[] }[] };
    const hrefs = body.versions.flatMap((v) => v.links.map((l) => l.href));
    expect(body.versions.map((v) => v.id)).toContain("v2.0");
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href.startsWith(`${h.url}/clouds/cloud-2/image/`)).toBe(true);
  });

  it("image list: the public image and the project's private one, active", async () => {
    const listed = (await openstack(["image", "list"], "cloud-2")) as Listed;
    const names = listed.map((i) => i.Name);
    expect(names).toContain(publicName);
    expect(names).toContain(privateName);
    expect(listed.find((i) => i.Name === publicName)?.Status).toBe("active");
  }, 120_000);

  it("image list --shared: the image shared with the project, and only it", async () => {
    const listed = (await openstack(["image", "list", "--shared"], "cloud-2")) as Listed;
    expect(listed.map((i) => i.Name)).toEqual([sharedName]);
    const all = (await openstack(["image", "list"], "cloud-2")) as Listed;
    expect(all.map((i) => i.Name)).toContain(sharedName);
  }, 120_000);

  it("image show: the private image's owner is the project in cloud-2", async () => {
    const shown = (await openstack(["image", "show", privateName], "cloud-2")) as Record<string, unknown>;
    expect(shown).toMatchObject({ name: privateName, visibility: "private", status: "active", owner: projectId });
  }, 120_000);

  it("image list --project u-alice: the facade's project id in owner= is mapped to cloud-2's", async () => {
    const listed = (await openstack(["image", "list", "--project", "u-alice"], "cloud-2")) as Listed;
    const names = listed.map((i) => i.Name);
    expect(names).toContain(privateName);
    expect(names).not.toContain(publicName);
  }, 120_000);

  it("image list in cloud-3 shows neither (another cloud's Glance)", async () => {
    const listed = (await openstack(["image", "list"], "cloud-3")) as Listed;
    expect(listed.map((i) => i.Name)).not.toContain(publicName);
    expect(listed.map((i) => i.Name)).not.toContain(privateName);
  }, 120_000);
});
