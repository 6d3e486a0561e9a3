import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keystoneAdminToken } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { freePort } from "../faults/own-redis.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";

// Active Directory people (the real Samba AD DC) synced into the real Keystones by the AD preset as shipped, then
// the real openstack CLI through Archway's Keystone facade as an AD user, in both of AD's logon name forms.
const run = promisify(execFile);
const ad = loadEndpoints().ad!;
const home = mkdtempSync(join(tmpdir(), "archway-ad-cli-"));
let h: FacadeHarness;

// Nested: user0001 is in g-inner, in g-outer, in g-top; user0002 in g-outer. Nobody is a direct member of g-top.
const POLICY =
  "apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: ad-top }\nspec:\n" +
  "  subjects: { sources: [ad], groups: { anyOf: [g-top] } }\n" +
  '  grants: [{ project: "u-{{ username }}", roles: [member], create: true }]\n  keys: false\n';

const AD_SOURCE =
  "    - id: ad\n      type: ldap\n      preset: active-directory\n" +
  `      urls: ["${ad.ldapsUrl}"]\n      caFile: "${ad.caFile}"\n      baseDn: "${ad.baseDn}"\n` +
  `      userBaseDn: "${ad.peopleDn}"\n      groupBaseDn: "${ad.groupsDn}"\n` +
  `      bindDn: "${ad.bindDn}"\n      bindPassword: "${ad.bindPassword}"\n      timeoutMs: 10000\n`;

async function openstack(username: string, args: string[], region = "cloud-1"): Promise<unknown> {
  const env = {
    PATH: "/usr/bin:/bin",
    HOME: home,
    OS_AUTH_URL: `${h.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: username,
    OS_PASSWORD: "Passw0rd-0001",
    // The facade's user domain names the identity source (docs/tokens.md).
    OS_USER_DOMAIN_NAME: "ad",
    OS_PROJECT_NAME: "u-user0001",
    OS_PROJECT_DOMAIN_NAME: "archway",
    OS_REGION_NAME: region,
    OS_INTERFACE: "public",
  };
  const { stdout } = await run("/usr/bin/openstack", [...args, "-f", "json"], { env, timeout: 90_000 });
  return JSON.parse(stdout);
}

beforeAll(async () => {
  h = await startFacade(await freePort(), { extraSources: AD_SOURCE, policies: { "ad-top": POLICY } });
}, 120_000);
afterAll(async () => {
  await h?.close();
  rmSync(home, { recursive: true, force: true });
}, 120_000);

describe("AD people into the real Keystones, and the openstack CLI as an AD user", () => {
  it("a full sync creates the shadow users and projects of the people in g-top (through nested groups)", async () => {
    const { results } = await h.gateway.sync!.service.full({ runId: `ad-${Date.now()}` });
    for (const r of results) expect(r, r.reason).toMatchObject({ outcome: "converged" });
    const ks = h.env.keystones[0]!;
    const admin = await keystoneAdminToken(ks.id);
    const get = async <T>(path: string) =>
      (await (await fetch(`${ks.authUrl}${path}`, { headers: { "x-auth-token": admin } })).json()) as T;
    const { domains } = await get<{ domains: { id: string }[] }>(`/domains?name=${h.domain}`);
    const { users } = await get<{ users: { name: string }[] }>(`/users?domain_id=${domains[0]?.id}`);
    expect(users.map((u) => u.name).sort()).toEqual(["user0001", "user0002"]);
    const { projects } = await get<{ projects: { name: string }[] }>(`/projects?domain_id=${domains[0]?.id}`);
    expect(projects.map((p) => p.name).sort()).toEqual(["u-user0001", "u-user0002"]);
  }, 240_000);

  it("token issue as AD\\user0001 and as user0001@ad.example.org: the same person, a project token", async () => {
    const a = (await openstack(`${ad.netbiosDomain}\\user0001`, ["token", "issue"])) as {
      user_id: string;
      project_id: string;
    };
    const b = (await openstack(`user0001@${ad.dnsDomain}`, ["token", "issue"])) as { user_id: string };
    expect(a.project_id).toMatch(/^[0-9a-f]{32}$/);
    expect(b.user_id).toBe(a.user_id);
    const projects = (await openstack(`${ad.netbiosDomain}\\user0001`, ["project", "list"])) as { Name: string }[];
    expect(projects.map((p) => p.Name)).toEqual(["u-user0001"]);
  }, 180_000);

  it("the proxy answers the AD user in cloud-2 (nova keypair list); a wrong AD password is refused", async () => {
    const keys = (await openstack("user0001", ["keypair", "list"], "cloud-2")) as { Name: string }[];
    expect(Array.isArray(keys)).toBe(true);
    await expect(
      run("/usr/bin/openstack", ["token", "issue", "-f", "json"], {
        env: {
          PATH: "/usr/bin:/bin",
          HOME: home,
          OS_AUTH_URL: `${h.url}/v3`,
          OS_IDENTITY_API_VERSION: "3",
          OS_USERNAME: "AD\\user0001",
          OS_PASSWORD: "wrong-Passw0rd",
          OS_USER_DOMAIN_NAME: "ad",
          OS_PROJECT_NAME: "u-user0001",
          OS_PROJECT_DOMAIN_NAME: "archway",
        },
        timeout: 90_000,
      }),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/401|authenticate/i) });
  }, 180_000);
});
