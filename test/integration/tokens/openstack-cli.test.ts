import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keystoneAdminToken, startService, stopService } from "../../env/control.js";
import { cliEnv, openstackJson } from "../../helpers/openstack-cli.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// The real `openstack` CLI (Debian python3-openstackclient) against Archway's /v3, through the proxy to the
// test environment's real nova-api.
const run = promisify(execFile);
let h: FacadeHarness;
const home = mkdtempSync(join(tmpdir(), "archway-cli-home-"));

/** One project in three regions: the region picks the cloud (docs/tokens.md). */
function openstack(args: string[], region = "cloud-1"): Promise<unknown> {
  const login = { url: h.url, username: "alice", password: h.password, project: "u-alice", region, home };
  return openstackJson(login, args, 60_000);
}

beforeAll(async () => {
  h = await startFacade(18095);
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("the openstack CLI against Archway's /v3", () => {
  it("token issue: a project-scoped token for the facade project", async () => {
    const token = (await openstack(["token", "issue"])) as { project_id: string; user_id: string; expires: string };
    expect(token.project_id).toMatch(/^[0-9a-f]{32}$/);
    expect(token.user_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it("project list: one project, held in every cloud", async () => {
    const projects = (await openstack(["project", "list"])) as { Name: string }[];
    expect(projects.map((p) => p.Name)).toEqual(["u-alice"]);
  });

  it("catalog list: the three clouds where the project exists as its regions, endpoints through Archway", async () => {
    const catalog = (await openstack(["catalog", "list"])) as {
      Type: string;
      Endpoints: string | { region: string; url: string }[];
    }[];
    const compute = catalog.find((s) => s.Type === "compute");
    const text = JSON.stringify(compute?.Endpoints);
    for (const region of ["cloud-1", "cloud-2", "cloud-3"]) expect(text).toContain(`${h.url}/clouds/${region}/compute`);
  });

  it("keypair create and list in cloud-2 go through the proxy to that cloud's real nova-api", async () => {
    const keyFile = join(home, "id.pub");
    writeFileSync(
      keyFile,
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFk2K5pD4v5xHqY5j1xZr3YtY1dM5rH2q8Zk0s9U8mQw alice@laptop\n",
    );
    await openstack(["keypair", "create", "--public-key", keyFile, "archway-cli-test"], "cloud-2");
    const listed = (await openstack(["keypair", "list"], "cloud-2")) as { Name: string }[];
    expect(listed.map((k) => k.Name)).toContain("archway-cli-test");
    // It is really in cloud-2's nova, owned by alice's shadow user, and not in cloud-3's.
    const nova2 = h.env.novas.find((n) => n.cloud === "cloud-2")!;
    const admin = await keystoneAdminToken("cloud-2");
    const ks = h.env.keystones[1]!.authUrl;
    const get = async <T>(path: string) =>
      (await (await fetch(`${ks}${path}`, { headers: { "x-auth-token": admin } })).json()) as T;
    const { domains } = await get<{ domains: { id: string }[] }>(`/domains?name=${h.domain}`);
    const users = await get<{ users: { id: string }[] }>(`/users?name=alice&domain_id=${domains[0]?.id}`);
    const shadow = users.users[0];
    expect(shadow).toBeDefined();
    const keypairs = (await (
      await fetch(`${nova2.url}/os-keypairs?user_id=${shadow!.id}`, {
        headers: { "x-auth-token": admin, "openstack-api-version": "compute 2.10" },
      })
    ).json()) as { keypairs: { keypair: { name: string } }[] };
    expect(keypairs.keypairs.map((k) => k.keypair.name)).toContain("archway-cli-test");
    expect(((await openstack(["keypair", "list"], "cloud-3")) as { Name: string }[]).map((k) => k.Name)).not.toContain(
      "archway-cli-test",
    );
    const login = { url: h.url, username: "alice", password: h.password, project: "u-alice", region: "cloud-2", home };
    await run("/usr/bin/openstack", ["keypair", "delete", "archway-cli-test"], { env: cliEnv(login), timeout: 60_000 });
  }, 120_000);
});

describe("tokens through the facade and the proxy", () => {
  async function login(project?: string): Promise<string> {
    const res = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "alice", domain: { name: "Default" }, password: h.password } },
          },
          ...(project ? { scope: { project: { name: project, domain: { name: "archway" } } } } : {}),
        },
      }),
    });
    expect(res.status).toBe(201);
    return res.headers.get("x-subject-token")!;
  }
  const keypairs = (token: string, cloud: string) =>
    fetch(`${h.url}/clouds/${cloud}/compute/v2.1/os-keypairs`, { headers: { "x-auth-token": token } });

  it("refuses a wrong password in Keystone's error shape", async () => {
    const res = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "alice", domain: { name: "Default" }, password: "nope" } },
          },
        },
      }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 401, title: "Unauthorized" } });
  });

  it("re-scopes with the token method to a project in another cloud", async () => {
    const unscoped = await login();
    const res = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["token"], token: { id: unscoped } },
          scope: { project: { name: "cloud-3:u-alice", domain: { name: "archway" } } },
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { token: { project: { name: string } } }).token.project.name).toBe("cloud-3:u-alice");
  });

  it("refuses a revoked token everywhere: validation, re-scoping and the proxy", async () => {
    const token = await login("cloud-1:u-alice");
    const other = await login("cloud-1:u-alice");
    expect((await keypairs(token, "cloud-1")).status).toBe(200);
    const revoke = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "DELETE",
      headers: { "x-auth-token": other, "x-subject-token": token },
    });
    expect(revoke.status).toBe(204);
    expect(
      (await fetch(`${h.url}/v3/auth/tokens`, { headers: { "x-auth-token": other, "x-subject-token": token } })).status,
    ).toBe(404);
    expect((await keypairs(token, "cloud-1")).status).toBe(401);
    expect((await fetch(`${h.url}/v3/auth/projects`, { headers: { "x-auth-token": token } })).status).toBe(401);
  });

  it("refuses a forged token", async () => {
    const token = await login("cloud-1:u-alice");
    const [head, body] = token.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString());
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, sub: "demo:root" })).toString("base64url")}.${token.split(".")[2]}`;
    expect((await keypairs(forged, "cloud-1")).status).toBe(401);
    expect((await fetch(`${h.url}/v3/auth/catalog`, { headers: { "x-auth-token": forged } })).status).toBe(401);
  });

  it("answers 503 naming the cloud for a stopped cloud while the others keep working", async () => {
    const token = await login("u-alice");
    stopService("nova-3");
    stopService("keystone-3");
    try {
      const down = await keypairs(token, "cloud-3");
      expect(down.status).toBe(503);
      expect(JSON.stringify(await down.json())).toMatch(/cloud-3/);
      expect((await keypairs(token, "cloud-2")).status).toBe(200);
    } finally {
      startService("keystone-3");
      startService("nova-3");
    }
  }, 60_000);
});
