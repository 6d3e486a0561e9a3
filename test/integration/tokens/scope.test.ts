import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { keystoneAdminToken } from "../../env/control.js";
import { sshKey } from "../../helpers/ssh-key.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// The scope binds (issue 21): a token acts only as the project it names, in that project's regions (the clouds where
// the person holds it), through the real openstack CLI, the real Keystones and nova-apis. cloud-1 is a region,
// cloud-2 and cloud-3 are edge sites. bob: u-bob in cloud-1, ops in cloud-1 and cloud-2, store-ops at the edge.
// carol (contractor) would get the same, but a deny policy keeps her out of every edge cloud.
const run = promisify(execFile);
let h: FacadeHarness;
const home = mkdtempSync(join(tmpdir(), "archway-scope-home-"));

const policy = (name: string, spec: string) =>
  `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ${name} }\nspec:\n${spec}  keys: false\n`;
const POLICIES = {
  personal: policy(
    "personal",
    `  subjects: { groups: { anyOf: [devs] } }\n  clouds: { labels: { kind: region } }\n  grants: [{ project: "u-{{ username }}", roles: [member] }]\n`,
  ),
  ops: policy(
    "ops",
    "  subjects: { groups: { anyOf: [devs] } }\n  clouds: { names: [cloud-1, cloud-2] }\n  grants: [{ project: ops, roles: [member] }]\n",
  ),
  stores: policy(
    "stores",
    "  subjects: { groups: { anyOf: [retail-ops] } }\n  clouds: { labels: { kind: edge } }\n  grants: [{ project: store-ops, roles: [member] }]\n",
  ),
  "no-contractors-at-the-edge":
    "apiVersion: archway.dev/v1\nkind: DenyPolicy\nmetadata: { name: no-contractors-at-the-edge }\nspec:\n  subjects: { groups: { anyOf: [contractors] } }\n  clouds: { labels: { kind: edge } }\n",
};

/** The real CLI as `user` scoped to `project` by name, in `region`, its JSON output parsed; rejects when it fails. */
async function openstack(user: string, project: string, region: string, args: string[], json = true): Promise<unknown> {
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: home,
    OS_AUTH_URL: `${h.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: user,
    OS_PASSWORD: h.passwordOf(user),
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_NAME: project,
    OS_PROJECT_DOMAIN_NAME: "archway",
    OS_REGION_NAME: region,
    OS_INTERFACE: "public",
  };
  const { stdout } = await run("/usr/bin/openstack", json ? [...args, "-f", "json"] : args, { env, timeout: 60_000 });
  return stdout.trim() ? JSON.parse(stdout) : null;
}

/** A facade token for `user`, scoped to the project `project` names (unscoped without), and its document. */
async function login(user: string, project?: string): Promise<{ token: string; body: TokenDocument }> {
  const res = await fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: user, domain: { name: "Default" }, password: h.passwordOf(user) } },
        },
        ...(project ? { scope: { project: { name: project, domain: { name: "archway" } } } } : {}),
      },
    }),
  });
  if (res.status !== 201) throw new Error(`login ${user} ${project}: ${res.status} ${await res.text()}`);
  return { token: res.headers.get("x-subject-token") ?? "", body: (await res.json()) as TokenDocument };
}
interface TokenDocument {
  token: {
    user: { id: string };
    project?: { id: string; name: string };
    catalog?: { type: string; endpoints: { region: string }[] }[];
  };
}
const regionsOf = (doc: TokenDocument) =>
  [...new Set((doc.token.catalog ?? []).flatMap((s) => s.endpoints.map((e) => e.region)))].sort();

const keypairs = (token: string, cloud: string) =>
  fetch(`${h.url}/clouds/${cloud}/compute/v2.1/os-keypairs`, { headers: { "x-auth-token": token } });

/** A refusal in Keystone's error shape (403, or 401). */
async function expectRefused(res: Response): Promise<void> {
  expect([401, 403]).toContain(res.status);
  expect(await res.json()).toMatchObject({ error: { code: res.status, title: expect.any(String) } });
}

beforeAll(async () => {
  h = await startFacade(18096, {
    users: [
      { username: "bob", groups: ["devs", "retail-ops"] },
      { username: "carol", groups: ["devs", "retail-ops", "contractors"] },
    ],
    policies: POLICIES,
    labels: (cloudId) => (cloudId === "cloud-1" ? "{ kind: region }" : "{ kind: edge }"),
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
});

describe("a token acts only as the project it names", () => {
  it("replay: a token scoped to cloud-1:u-bob is refused for /clouds/cloud-2/... and /clouds/cloud-3/...", async () => {
    const { token, body } = await login("bob", "cloud-1:u-bob");
    expect(regionsOf(body)).toEqual(["cloud-1"]);
    expect((await keypairs(token, "cloud-1")).status).toBe(200);
    await expectRefused(await keypairs(token, "cloud-2"));
    await expectRefused(await keypairs(token, "cloud-3"));
  }, 60_000);

  it("replay: an unscoped token reaches no cloud, and has no catalog", async () => {
    const { token } = await login("bob");
    for (const cloud of ["cloud-1", "cloud-2", "cloud-3"]) await expectRefused(await keypairs(token, cloud));
    await expectRefused(await fetch(`${h.url}/v3/auth/catalog`, { headers: { "x-auth-token": token } }));
    // It still lists the person's projects, to scope to one.
    const listed = (await (
      await fetch(`${h.url}/v3/auth/projects`, { headers: { "x-auth-token": token } })
    ).json()) as { projects: { name: string; description: string }[] };
    expect(listed.projects.map((p) => p.name)).toEqual(["ops", "store-ops", "u-bob"]);
  });

  it("u-bob exists only in cloud-1: a token for it cannot touch cloud-2, nor can one for cloud-1:ops", async () => {
    const bob = await login("bob", "u-bob");
    expect(regionsOf(bob.body)).toEqual(["cloud-1"]);
    await expectRefused(await keypairs(bob.token, "cloud-2"));
    const alias = await login("bob", "cloud-1:ops");
    expect((await keypairs(alias.token, "cloud-1")).status).toBe(200);
    await expectRefused(await keypairs(alias.token, "cloud-2"));
    const stores = await login("bob", "store-ops");
    expect(regionsOf(stores.body)).toEqual(["cloud-2", "cloud-3"]);
    await expectRefused(await keypairs(stores.token, "cloud-1"));
    // A project bob does not hold in that cloud cannot be named at all.
    const refused = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["token"], token: { id: bob.token } },
          scope: { project: { name: "cloud-2:u-bob", domain: { name: "archway" } } },
        },
      }),
    });
    await expectRefused(refused);
  }, 60_000);

  it("in a cloud the token reaches, the cloud sees the named project: nova refuses another project's quotas", async () => {
    const { token } = await login("bob", "u-bob");
    expect((await keypairs(token, "cloud-1")).status).toBe(200); // provisions bob in cloud-1 if needed
    const admin = await keystoneAdminToken("cloud-1");
    const ks = h.env.keystones.find((k) => k.id === "cloud-1")!.authUrl;
    const get = async <T>(path: string) =>
      (await (await fetch(`${ks}${path}`, { headers: { "x-auth-token": admin } })).json()) as T;
    const { domains } = await get<{ domains: { id: string }[] }>(`/domains?name=${h.domain}`);
    const idOf = async (name: string) =>
      (await get<{ projects: { id: string }[] }>(`/projects?name=${name}&domain_id=${domains[0]?.id}`)).projects[0]?.id;
    const quotas = (projectId: string | undefined) =>
      fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-quota-sets/${projectId}`, { headers: { "x-auth-token": token } });
    expect((await quotas(await idOf("u-bob"))).status).toBe(200);
    expect((await quotas(await idOf("ops"))).status).toBe(403);
  }, 60_000);

  it("a person lists only their own projects", async () => {
    const { token, body } = await login("bob", "ops");
    const own = await fetch(`${h.url}/v3/users/${body.token.user.id}/projects`, { headers: { "x-auth-token": token } });
    expect(own.status).toBe(200);
    const carol = await login("carol");
    await expectRefused(
      await fetch(`${h.url}/v3/users/${carol.body.token.user.id}/projects`, { headers: { "x-auth-token": token } }),
    );
  });
});

describe("one project in several regions with the real openstack CLI", () => {
  it("--os-project-name ops works in cloud-2 and in cloud-1, each reaching that cloud's real nova-api", async () => {
    const keyFile = join(home, "bob.pub");
    writeFileSync(keyFile, `${sshKey("bob@laptop")}\n`);
    await openstack("bob", "ops", "cloud-2", ["keypair", "create", "--public-key", keyFile, "scope-test"]);
    const in2 = (await openstack("bob", "ops", "cloud-2", ["keypair", "list"])) as { Name: string }[];
    expect(in2.map((k) => k.Name)).toContain("scope-test");
    const in1 = (await openstack("bob", "ops", "cloud-1", ["keypair", "list"])) as { Name: string }[];
    expect(in1.map((k) => k.Name)).not.toContain("scope-test");
    // It is really in cloud-2's nova, owned by bob's shadow user there.
    const admin = await keystoneAdminToken("cloud-2");
    const ks = h.env.keystones.find((k) => k.id === "cloud-2")!.authUrl;
    const get = async <T>(path: string) =>
      (await (await fetch(`${ks}${path}`, { headers: { "x-auth-token": admin } })).json()) as T;
    const { domains } = await get<{ domains: { id: string }[] }>(`/domains?name=${h.domain}`);
    const users = await get<{ users: { id: string }[] }>(`/users?name=bob&domain_id=${domains[0]?.id}`);
    const nova2 = h.env.novas.find((n) => n.cloud === "cloud-2")!;
    const pairs = (await (
      await fetch(`${nova2.url}/os-keypairs?user_id=${users.users[0]?.id}`, {
        headers: { "x-auth-token": admin, "openstack-api-version": "compute 2.10" },
      })
    ).json()) as { keypairs: { keypair: { name: string } }[] };
    expect(pairs.keypairs.map((k) => k.keypair.name)).toContain("scope-test");
    await openstack("bob", "ops", "cloud-2", ["keypair", "delete", "scope-test"], false);
  }, 180_000);

  it("project list shows each project once; the catalog of ops has exactly its two regions", async () => {
    const projects = (await openstack("bob", "ops", "cloud-1", ["project", "list"])) as { Name: string }[];
    expect(projects.map((p) => p.Name).sort()).toEqual(["ops", "store-ops", "u-bob"]);
    const catalog = (await openstack("bob", "ops", "cloud-1", ["catalog", "list"])) as {
      Type: string;
      Endpoints: unknown;
    }[];
    const compute = JSON.stringify(catalog.find((s) => s.Type === "compute")?.Endpoints);
    expect(compute).toContain(`${h.url}/clouds/cloud-1/compute`);
    expect(compute).toContain(`${h.url}/clouds/cloud-2/compute`);
    expect(compute).not.toContain("cloud-3");
  }, 120_000);

  it("--os-project-name u-bob --os-region-name cloud-2 fails: the project has no such region", async () => {
    await expect(openstack("bob", "u-bob", "cloud-2", ["keypair", "list"])).rejects.toThrow(/endpoint|region/i);
    expect(await openstack("bob", "u-bob", "cloud-1", ["keypair", "list"])).toEqual(expect.any(Array));
  }, 120_000);

  it("the clouds.yaml has one entry per project with its regions, and the CLI picks one with --os-region-name", async () => {
    const { token } = await login("bob", "ops");
    const res = await fetch(`${h.url}/api/v1/me/clouds.yaml`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    const yaml = parse(text) as { clouds: Record<string, { region_name: string; regions: string[] }> };
    expect(Object.fromEntries(Object.entries(yaml.clouds).map(([name, c]) => [name, c.regions]))).toEqual({
      ops: ["cloud-1", "cloud-2"],
      "store-ops": ["cloud-2", "cloud-3"],
      "u-bob": ["cloud-1"],
    });
    const file = join(home, "clouds.yaml");
    writeFileSync(file, text);
    const cli = (cloud: string, region: string) =>
      run(
        "/usr/bin/openstack",
        ["--os-cloud", cloud, "--os-region-name", region, "--os-password", h.passwordOf("bob"), "keypair", "list"],
        { env: { PATH: "/usr/bin:/bin", HOME: home, OS_CLIENT_CONFIG_FILE: file }, timeout: 60_000 },
      );
    await cli("ops", "cloud-2");
    await cli("ops", "cloud-1");
    await expect(cli("u-bob", "cloud-2")).rejects.toThrow(/endpoint|region/i);
  }, 180_000);
});

describe("carol (contractor) still sees no edge cloud", () => {
  it("holds ops only in cloud-1, and nothing at the edge, through the facade, the proxy and the CLI", async () => {
    const unscoped = await login("carol");
    const listed = (await (
      await fetch(`${h.url}/v3/auth/projects`, { headers: { "x-auth-token": unscoped.token } })
    ).json()) as { projects: { name: string }[] };
    expect(listed.projects.map((p) => p.name)).toEqual(["ops", "u-carol"]);
    const ops = await login("carol", "ops");
    expect(regionsOf(ops.body)).toEqual(["cloud-1"]);
    expect((await keypairs(ops.token, "cloud-1")).status).toBe(200);
    await expectRefused(await keypairs(ops.token, "cloud-2"));
    await expectRefused(await keypairs(ops.token, "cloud-3"));
    for (const name of ["cloud-2:ops", "store-ops", "cloud-3:store-ops"])
      await expect(login("carol", name)).rejects.toThrow(/401/);
    const projects = (await openstack("carol", "ops", "cloud-1", ["project", "list"])) as { Name: string }[];
    expect(projects.map((p) => p.Name).sort()).toEqual(["ops", "u-carol"]);
    await expect(openstack("carol", "ops", "cloud-2", ["keypair", "list"])).rejects.toThrow(/endpoint|region/i);
  }, 180_000);
});
