import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keystoneAdminToken } from "../../env/control.js";
import { openstackJson } from "../../helpers/openstack-cli.js";
import { freePort } from "../faults/own-redis.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Issue #27: the facade knows a project by its own id, each cloud by its Keystone id. A request body that names the
// project (`openstack network create --project <facade id>`: Neutron's `project_id`) reaches the cloud with the
// cloud's id, through the real `openstack` CLI, Archway's facade and proxy, and cloud-2's real neutron-server.
let h: FacadeHarness;
const home = mkdtempSync(join(tmpdir(), "archway-cli-body-"));
const network = `body-ids-${randomBytes(3).toString("hex")}`;
let cloudProjectId: string;

const openstack = (args: string[], region = "cloud-2") =>
  openstackJson({ url: h.url, username: "alice", password: h.password, project: "u-alice", region, home }, args);
const neutron2 = () => h.env.neutrons.find((n) => n.cloud === "cloud-2")?.url;

/** cloud-2's networks of that name, as its admin sees them (id and project). */
async function networksNamed(name: string): Promise<{ id: string; project_id: string }[]> {
  const admin = await keystoneAdminToken("cloud-2");
  const res = await fetch(`${neutron2()}/v2.0/networks?name=${name}`, { headers: { "x-auth-token": admin } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { networks: { id: string; project_id: string }[] }).networks;
}

beforeAll(async () => {
  h = await startFacade(await freePort());
  const alice = await h.gateway.web.deps.lookupSources[0]!.lookup("alice");
  await h.gateway.sync!.service.person(alice!, { cloudId: "cloud-2" });
  const clients = h.gateway.sync!.clients(h.runtime.loaded.config.clouds.find((c) => c.id === "cloud-2")!);
  const domain = (await clients.keystone.listDomains()).find((d) => d.name === h.domain);
  const [project] = await clients.keystone.listProjects({ name: "u-alice", domainId: domain!.id });
  cloudProjectId = project!.id;
}, 180_000);

afterAll(async () => {
  const admin = await keystoneAdminToken("cloud-2").catch(() => undefined);
  if (admin && neutron2())
    for (const n of await networksNamed(network).catch(() => []))
      await fetch(`${neutron2()}/v2.0/networks/${n.id}`, { method: "DELETE", headers: { "x-auth-token": admin } });
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("project ids in request bodies, through the facade", () => {
  it("network create --project <facade id> in cloud-2 lands in alice's project there", async () => {
    const token = (await openstack(["token", "issue"])) as { project_id: string };
    expect(token.project_id).not.toBe(cloudProjectId);
    await openstack(["network", "create", "--project", token.project_id, network]);
    const made = await networksNamed(network);
    expect(made.map((n) => n.project_id)).toEqual([cloudProjectId]);
  }, 180_000);
});
