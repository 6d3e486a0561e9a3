import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { removeFromCloudsFile, updateCloudsFile } from "../../../src/cli/login/clouds-file.js";
import { tokenCloudEntries } from "../../../src/http/index.js";

const rendered =
  "# clouds.yaml for alice\nclouds:\n" +
  "  ops:\n    auth: { auth_url: 'https://a.example/v3', username: alice, user_domain_name: corp, project_name: ops, project_domain_name: archway }\n" +
  "    auth_type: password\n    region_name: cloud-1\n    regions: [cloud-1, cloud-2]\n    interface: public\n    identity_api_version: 3\n";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "login-unit-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("archway login's clouds.yaml entries", () => {
  it("one v3token entry per project and region, from the page's clouds.yaml", () => {
    const entries = tokenCloudEntries(rendered, { token: "T", prefix: "aw-" });
    expect(Object.keys(entries)).toEqual(["aw-ops-cloud-1", "aw-ops-cloud-2"]);
    expect(entries["aw-ops-cloud-2"]).toEqual({
      auth_type: "v3token",
      auth: { auth_url: "https://a.example/v3", token: "T", project_name: "ops", project_domain_name: "archway" },
      region_name: "cloud-2",
      interface: "public",
      identity_api_version: 3,
    });
  });

  it("writes its entries 0600, keeps others and comments, never overwrites an entry it did not write", () => {
    const file = join(tmp(), "clouds.yaml");
    writeFileSync(file, "# mine\nclouds:\n  home: { region_name: x }\n  aw-ops-cloud-1: { region_name: theirs }\n");
    const entries = tokenCloudEntries(rendered, { token: "T", prefix: "aw-" });
    const first = updateCloudsFile(file, entries, []);
    expect(first.written).toEqual(["aw-ops-cloud-2"]);
    expect(first.skipped).toEqual(["aw-ops-cloud-1"]);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# mine");
    expect(parse(text).clouds["aw-ops-cloud-1"]).toEqual({ region_name: "theirs" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("removes entries it wrote that are no longer granted, and on logout only its own", () => {
    const file = join(tmp(), "clouds.yaml");
    writeFileSync(file, "clouds:\n  home: { region_name: x }\n");
    const all = tokenCloudEntries(rendered, { token: "T", prefix: "aw-" });
    const { written } = updateCloudsFile(file, all, []);
    const fewer = { "aw-ops-cloud-1": all["aw-ops-cloud-1"]! };
    expect(updateCloudsFile(file, fewer, written).removed).toEqual(["aw-ops-cloud-2"]);
    expect(removeFromCloudsFile(file, ["aw-ops-cloud-1", "home-not-mine"])).toEqual(["aw-ops-cloud-1"]);
    expect(Object.keys(parse(readFileSync(file, "utf8")).clouds)).toEqual(["home"]);
  });
});
