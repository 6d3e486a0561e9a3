import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type Cloud, CloudSchema } from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { type CloudClients, createCloudClients, type Project } from "../../../src/openstack/index.js";
import type { QuotaReport } from "../../../src/quota/index.js";
import { PROJECT_TAG } from "../../../src/sync/index.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { testClouds, uniqueName } from "./clouds.js";

const exec = promisify(execFile);
const endpoints = loadEndpoints();
const clouds = testClouds({ endpoints });

/** One owned project in one cloud, made for this run. */
interface Made {
  clients: CloudClients;
  domainId: string;
  project: Project;
}

describe("quotas against the real nova-api, cinder-api, neutron-server and Keystone unified limits", () => {
  const all = clouds.map((cloud) => createCloudClients(cloud));
  const [c1, c2, c3] = all as [CloudClients, CloudClients, CloudClients];
  const domainName = uniqueName();
  const made: Made[] = [];
  const cleanup: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    // The same owned project ("team-a" in one run-unique domain) in every cloud: the report sums it across them.
    for (const clients of all) {
      const domain = await clients.keystone.createDomain({ name: domainName });
      const project = await clients.keystone.createProject({
        name: "team-a",
        domain_id: domain.id,
        tags: [PROJECT_TAG],
      });
      made.push({ clients, domainId: domain.id, project });
    }
  });

  afterAll(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => {});
    for (const { clients, domainId, project } of made) {
      const q = clients.quotas();
      await Promise.all([q.compute, q.volume, q.network].map((s) => s.reset(project.id).catch(() => {})));
      await clients.keystone.deleteProject(project.id).catch(() => {});
      await clients.keystone.deleteDomain(domainId).catch(() => {});
    }
    await Promise.all(all.map((c) => c.close()));
  });

  const projectIn = (clients: CloudClients) => made.find((m) => m.clients === clients)!.project;

  it("sets and reads back Nova quotas (os-quota-sets, 2.57) with usage from /detail", async () => {
    const nova = c2.quotas().compute;
    const id = projectIn(c2).id;
    const set = await nova.set(id, { cores: 12, ram: 24_576, instances: 6, key_pairs: 15 });
    expect(set).toMatchObject({ cores: 12, ram: 24_576, instances: 6, key_pairs: 15 });
    expect(set).not.toHaveProperty("fixed_ips"); // 2.57: only what Nova itself counts
    expect(await nova.get(id)).toMatchObject({ cores: 12, ram: 24_576, instances: 6, key_pairs: 15 });
    expect((await nova.usage(id)).cores).toEqual({ limit: 12, inUse: 0 });
  });

  it("sets and reads back Cinder quotas, with usage from ?usage=true", async () => {
    const cinder = c2.quotas().volume;
    const id = projectIn(c2).id;
    expect(await cinder.set(id, { volumes: 7, gigabytes: 70, snapshots: 3 })).toMatchObject({
      volumes: 7,
      gigabytes: 70,
      snapshots: 3,
    });
    expect(await cinder.get(id)).toMatchObject({ volumes: 7, gigabytes: 70, snapshots: 3 });
    const usage = await cinder.usage(id);
    expect(usage.volumes).toEqual({ limit: 7, inUse: 0 });
    expect(usage.gigabytes).toEqual({ limit: 70, inUse: 0 });
  });

  it("sets and reads back Neutron quotas, and counts a network the project owns in /details", async () => {
    const neutron = c2.quotas().network;
    const id = projectIn(c2).id;
    const limits = { network: 3, port: 20, security_group: 5, security_group_rule: 40, router: 2, floatingip: 4 };
    expect(await neutron.set(id, limits)).toMatchObject(limits);
    expect(await neutron.get(id)).toMatchObject(limits);

    const url = await c2.keystone.endpoint("network", { region: "cloud-2" });
    const created = await c2.keystone.request({
      operation: "test.networks.create",
      method: "POST",
      path: `${url}/v2.0/networks`,
      body: { network: { name: "quota-usage", project_id: id } },
      schema: z.object({ network: z.object({ id: z.string() }) }),
    });
    cleanup.push(() =>
      c2.keystone.request({
        operation: "test.networks.delete",
        method: "DELETE",
        path: `${url}/v2.0/networks/${created.network.id}`,
      }),
    );
    const usage = await neutron.usage(id);
    expect(usage.network).toEqual({ limit: 3, inUse: 1 });
    expect(usage.router).toEqual({ limit: 2, inUse: 0 });
  });

  it("keeps unified limits in Keystone: registered limits and project limits, list/create/update/delete (system scope)", async () => {
    const limits = c1.limits();
    const id = projectIn(c1).id;
    expect(["flat", "strict-two-level"]).toContain(await limits.model());
    const serviceId = await limits.serviceId("compute");
    const resource = uniqueName("res"); // a resource of this run only: the Keystones are shared
    const registered = await limits.createRegisteredLimit({ serviceId, resourceName: resource, defaultLimit: 10 });
    cleanup.push(() => limits.deleteRegisteredLimit(registered.id));
    expect(await limits.listRegisteredLimits({ serviceId, resourceName: resource })).toEqual([
      expect.objectContaining({ id: registered.id, default_limit: 10 }),
    ]);
    expect((await limits.updateRegisteredLimit(registered.id, { defaultLimit: 11 })).default_limit).toBe(11);

    const limit = await limits.createLimit({ projectId: id, serviceId, resourceName: resource, resourceLimit: 20 });
    cleanup.push(() => limits.deleteLimit(limit.id));
    // A project-scoped admin token would list only the admin project's limits; the system-scoped one sees this one.
    expect(await limits.listLimits({ projectId: id })).toEqual([
      expect.objectContaining({ id: limit.id, resource_name: resource, resource_limit: 20 }),
    ]);
    expect((await limits.updateLimit(limit.id, { resourceLimit: 25 })).resource_limit).toBe(25);
    expect((await limits.effectiveLimits(id, serviceId))[resource]).toBe(25);

    await limits.deleteLimit(limit.id);
    expect(await limits.listLimits({ projectId: id, resourceName: resource })).toEqual([]);
    expect((await limits.effectiveLimits(id, serviceId))[resource]).toBe(11); // the registered default again
    await limits.deleteRegisteredLimit(registered.id);
    await expect(
      limits.createLimit({ projectId: id, serviceId, resourceName: resource, resourceLimit: 5 }),
    ).rejects.toMatchObject({
      upstreamStatus: 403, // Keystone: no limit without a registered limit
    });
  });

  it("archway quota report --json: owned projects per cloud, summed across clouds; a down cloud is unavailable", async () => {
    await c1.quotas().compute.set(projectIn(c1).id, { cores: 8 });
    await c2.quotas().compute.set(projectIn(c2).id, { cores: 12 });
    await c1.quotas().volume.set(projectIn(c1).id, { volumes: 4 });
    await c2.quotas().volume.set(projectIn(c2).id, { volumes: 7 });
    // cloud-3 keeps its compute quotas in Keystone unified limits: `cores` is `class:VCPU` there.
    const limits = c3.limits();
    const computeId = await limits.serviceId("compute");
    const existing = await limits.listRegisteredLimits({ serviceId: computeId, resourceName: "class:VCPU" });
    if (existing.length === 0) {
      const r = await limits.createRegisteredLimit({
        serviceId: computeId,
        resourceName: "class:VCPU",
        defaultLimit: 20,
      });
      cleanup.push(() => limits.deleteRegisteredLimit(r.id));
    }
    const vcpu = await limits.createLimit({
      projectId: projectIn(c3).id,
      serviceId: computeId,
      resourceName: "class:VCPU",
      resourceLimit: 5,
    });
    cleanup.push(() => limits.deleteLimit(vcpu.id));

    const dir = mkdtempSync(join(tmpdir(), "archway-quota-"));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const down = { id: "cloud-down", authUrl: "http://127.0.0.1:9/v3", admin: { username: "a", password: "b" } };
    const config = join(dir, "archway.yaml");
    writeFileSync(
      config,
      configYaml([
        ...clouds.map((c) => (c.id === "cloud-3" ? { ...c, quotaBackend: "unified-limits" as const } : c)),
        CloudSchema.parse(down),
      ]),
    );

    const io = captureIO();
    const code = await runCli(["quota", "report", "--json", "--config", config], io);
    const report = JSON.parse(io.stdout()) as QuotaReport;
    expect(report.clouds.map((c) => [c.cloud, c.status])).toEqual([
      ["cloud-1", "ok"],
      ["cloud-2", "ok"],
      ["cloud-3", "ok"],
      ["cloud-down", "unavailable"],
    ]);
    expect(code).toBe(1); // a cloud could not be read: said in the exit code too
    const mine = (cloud: string) =>
      report.clouds
        .find((c) => c.cloud === cloud)
        ?.projects.find((p) => p.domain === domainName && p.name === "team-a");
    expect(mine("cloud-2")?.services.compute).toMatchObject({
      status: "ok",
      resources: { cores: { limit: 12, inUse: 0 } },
    });
    expect(mine("cloud-3")?.services.compute).toMatchObject({
      status: "ok",
      resources: { cores: { limit: 5, inUse: 0 } },
    });
    const total = report.projects.find((p) => p.domain === domainName && p.name === "team-a");
    expect(total?.clouds).toEqual(["cloud-1", "cloud-2", "cloud-3"]);
    expect(total?.totals.compute.cores).toEqual({ limit: 8 + 12 + 5, inUse: 0 });
    const cinderDefault = (await c3.quotas().volume.get(projectIn(c3).id)).volumes!;
    expect(total?.totals.volume.volumes).toEqual({ limit: 4 + 7 + cinderDefault, inUse: 0 });
    expect(total?.totals.network.network?.inUse).toBeGreaterThanOrEqual(0);

    const one = captureIO();
    expect(await runCli(["quota", "report", "--cloud", "cloud-2", "--config", config], one)).toBe(0);
    expect(one.stdout()).toContain(`${domainName} / team-a`);
    expect(one.stdout()).toMatch(/compute +cores 0\/12, ram 0\/24576/);
  });

  it("the openstack CLI, straight at cloud-2 as its admin, shows the quotas Archway set", async () => {
    const id = projectIn(c2).id;
    await c2.quotas().compute.set(id, { cores: 13, ram: 26_624 });
    await c2.quotas().volume.set(id, { volumes: 9, gigabytes: 90 });
    await c2.quotas().network.set(id, { network: 4, port: 30, security_group: 6 });
    const ks = endpoints.keystones.find((k) => k.id === "cloud-2")!;
    const { stdout } = await exec("/usr/bin/openstack", ["quota", "show", id, "-f", "json"], {
      env: {
        PATH: process.env.PATH ?? "",
        OS_AUTH_URL: ks.authUrl,
        OS_IDENTITY_API_VERSION: "3",
        OS_USERNAME: ks.adminUsername,
        OS_PASSWORD: ks.adminPassword,
        OS_PROJECT_NAME: ks.adminProject,
        OS_USER_DOMAIN_ID: "default",
        OS_PROJECT_DOMAIN_ID: "default",
        OS_REGION_NAME: ks.region,
        OS_INTERFACE: "public",
      },
      timeout: 60_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({
      cores: 13,
      ram: 26_624,
      volumes: 9,
      gigabytes: 90,
      networks: 4,
      ports: 30,
      secgroups: 6,
    });
  });
});

/** A config with only clouds (the report needs nothing else). */
function configYaml(list: Cloud[]): string {
  const lines = list.map(
    (c) =>
      `  - { id: ${c.id}, authUrl: "${c.authUrl}", region: ${c.region ?? "RegionOne"}, quotaBackend: ${c.quotaBackend}, ` +
      `timeoutMs: 3000, admin: { username: admin, password: "${"password" in c.admin ? c.admin.password : ""}", projectName: admin } }`,
  );
  return `deploymentId: quota-it\nlog: { level: warn }\nclouds:\n${lines.join("\n")}\n`;
}
