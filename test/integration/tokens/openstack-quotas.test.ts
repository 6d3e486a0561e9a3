import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keystoneAdminToken } from "../../env/control.js";
import { openstackJson } from "../../helpers/openstack-cli.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Issue #27: the real `openstack` CLI through Archway's /v3 facade and proxy shows quotas (Nova, Cinder, Neutron)
// and flavors (Nova) in cloud-2. The quotas are written by Archway's own quota clients (what quota sync uses); the
// flavor is made by hand in cloud-2's Nova. The facade knows projects by its own ids, the clouds by theirs: the
// proxy maps one to the other, and Cinder's catalog URL must not carry the admin's project.
let h: FacadeHarness;
const home = mkdtempSync(join(tmpdir(), "archway-cli-quota-"));
const flavor = `hand-made-${randomBytes(3).toString("hex")}`;
let flavorId: string | undefined;
let projectId: string;

function openstack(args: string[], region: string): Promise<unknown> {
  return openstackJson({ url: h.url, username: "alice", password: h.password, project: "u-alice", region, home }, args);
}

const nova2 = () => h.env.novas.find((n) => n.cloud === "cloud-2")!.url;

beforeAll(async () => {
  h = await startFacade(18171);
  // alice's project in cloud-2, as sync makes it; then its quotas through Archway's quota clients.
  const alice = await h.gateway.web.deps.lookupSources[0]!.lookup("alice");
  await h.gateway.sync!.service.person(alice!, { cloudId: "cloud-2" });
  const clients = h.gateway.sync!.clients(h.runtime.loaded.config.clouds.find((c) => c.id === "cloud-2")!);
  const domain = (await clients.keystone.listDomains()).find((d) => d.name === h.domain);
  const [project] = await clients.keystone.listProjects({ name: "u-alice", domainId: domain!.id });
  projectId = project!.id;
  const quotas = clients.quotas();
  await quotas.compute.set(projectId, { cores: 13, instances: 4 });
  await quotas.volume.set(projectId, { volumes: 6, gigabytes: 60 });
  await quotas.network.set(projectId, { network: 3, security_group: 9 });
  const admin = await keystoneAdminToken("cloud-2");
  const res = await fetch(`${nova2()}/flavors`, {
    method: "POST",
    headers: { "x-auth-token": admin, "content-type": "application/json" },
    body: JSON.stringify({ flavor: { name: flavor, ram: 256, vcpus: 1, disk: 1, "os-flavor-access:is_public": true } }),
  });
  expect(res.status).toBe(200);
  flavorId = ((await res.json()) as { flavor: { id: string } }).flavor.id;
}, 180_000);

afterAll(async () => {
  if (flavorId) {
    const admin = await keystoneAdminToken("cloud-2");
    await fetch(`${nova2()}/flavors/${flavorId}`, { method: "DELETE", headers: { "x-auth-token": admin } });
  }
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("the openstack CLI through the facade in cloud-2", () => {
  it("catalog list: compute, volumev3 and network of cloud-2 through Archway, no project in Cinder's URL", async () => {
    const catalog = (await openstack(["catalog", "list"], "cloud-2")) as { Type: string; Endpoints: unknown }[];
    const urls = (type: string) => JSON.stringify(catalog.find((s) => s.Type === type)?.Endpoints);
    expect(urls("compute")).toContain(`${h.url}/clouds/cloud-2/compute/v2.1`);
    expect(urls("volumev3")).toContain(`${h.url}/clouds/cloud-2/volumev3/v3`);
    expect(urls("network")).toContain(`${h.url}/clouds/cloud-2/network`);
    // The admin's project (Keystone substitutes it into Cinder's template for the admin token) is nowhere.
    expect(urls("volumev3")).not.toMatch(/volumev3\/v3\/[0-9a-f]{32}/);
  });

  it("quota show <project>: compute, volume and network limits of the project in cloud-2", async () => {
    const shown = (await openstack(["quota", "show", "u-alice"], "cloud-2")) as Record<string, unknown>;
    expect(shown).toMatchObject({ cores: 13, instances: 4, volumes: 6, gigabytes: 60, networks: 3, secgroups: 9 });
    // Shown under the facade's id and name, whatever id the clouds know it by.
    const token = (await openstack(["token", "issue"], "cloud-2")) as { project_id: string };
    expect(shown.project).toBe(token.project_id);
    expect(shown.project).not.toBe(projectId);
    expect(shown.project_name).toBe("u-alice");
  });

  it("quota show without a project (the token's) gives the same; cloud-3 keeps its defaults", async () => {
    const own = (await openstack(["quota", "show"], "cloud-2")) as Record<string, unknown>;
    expect(own).toMatchObject({ cores: 13, volumes: 6, networks: 3 });
    const other = (await openstack(["quota", "show", "u-alice"], "cloud-3")) as Record<string, unknown>;
    expect(other.cores).not.toBe(13);
    expect(other.volumes).not.toBe(6);
  }, 120_000);

  it("quota list --detail: usage next to the limits, counted by the services", async () => {
    await openstack(["security", "group", "create", "archway-quota-probe"], "cloud-2");
    const rows = (await openstack(["quota", "list", "--detail", "--network", "--project", "u-alice"], "cloud-2")) as {
      Resource: string;
      "In Use": number;
      Limit: number;
    }[];
    const groups = rows.find((r) => r.Resource === "security_groups");
    expect(groups?.Limit).toBe(9);
    // The new group and the default one Neutron makes for a project.
    expect(groups?.["In Use"]).toBeGreaterThanOrEqual(1);
    await openstack(["security", "group", "delete", "archway-quota-probe"], "cloud-2").catch(() => undefined);
  }, 120_000);

  it("flavor list: Nova's flavors of cloud-2, a hand-made one included, and not in cloud-3", async () => {
    const listed = (await openstack(["flavor", "list"], "cloud-2")) as { Name: string; ID: string }[];
    expect(listed.map((f) => f.Name)).toContain(flavor);
    const other = (await openstack(["flavor", "list"], "cloud-3")) as { Name: string }[];
    expect(other.map((f) => f.Name)).not.toContain(flavor);
  }, 120_000);
});
