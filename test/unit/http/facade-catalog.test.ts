import { describe, expect, it } from "vitest";
import { FacadeCatalogs } from "../../../src/http/keystone/facade-catalog.js";
import { tokenBody, tokenJson } from "../../../src/http/keystone/shapes.js";
import type { CloudAccess } from "../../../src/policy/index.js";
import { entitlementsFrom, type ProjectScope } from "../../../src/tokens/index.js";

/** The scope named `name` (a project, or `<cloud>:<project>`) of a project held in `clouds` (domain archway, member). */
function project(name: string, clouds: string[]): ProjectScope {
  const keystoneName = name.slice(name.indexOf(":") + 1);
  const access: CloudAccess = {
    projects: [{ name: keystoneName, domain: "archway", tags: [], create: true, policies: ["p"] }],
    assignments: [
      { identityId: "demo:alice", project: keystoneName, projectDomain: "archway", role: "member", policies: ["p"] },
    ],
    keys: [],
    memberships: [],
  };
  const scope = entitlementsFrom(new Map(clouds.map((c) => [c, access]))).byName(name);
  if (!scope) throw new Error(`no project ${name}`);
  return scope;
}

/** A stand-in for CloudCatalogs: the same promise per cloud until `refresh`. */
function cloudServices(lists: Record<string, Record<string, string>>) {
  const cached = new Map<string, Promise<Map<string, string>>>();
  let reads = 0;
  return {
    services(cloudId: string) {
      let hit = cached.get(cloudId);
      if (!hit) {
        reads++;
        hit = Promise.resolve(new Map(Object.entries(lists[cloudId] ?? {})));
        cached.set(cloudId, hit);
      }
      return hit;
    },
    refresh(cloudId: string, list: Record<string, string>) {
      lists[cloudId] = list;
      cached.delete(cloudId);
    },
    reads: () => reads,
  };
}

describe("facade catalog", () => {
  const lists = () => ({
    "cloud-1": { compute: "http://10.0.0.1:8774/v2.1/", dns: "http://10.0.0.1:9001" },
    "cloud-2": { compute: "http://10.0.0.2:8774/v2.1" },
  });

  it("lists one region per cloud of the project, every endpoint through Archway, services sorted by type", async () => {
    const catalogs = new FacadeCatalogs({ catalogs: cloudServices(lists()), publicUrl: "https://archway.test" });
    const { catalog, json } = await catalogs.of(project("ops", ["cloud-2", "cloud-1"]));
    expect(catalog.map((s) => s.type)).toEqual(["compute", "dns", "identity"]);
    expect(catalog[0]?.endpoints.map((e) => [e.region, e.url])).toEqual([
      ["cloud-1", "https://archway.test/clouds/cloud-1/compute/v2.1"],
      ["cloud-2", "https://archway.test/clouds/cloud-2/compute/v2.1"],
    ]);
    expect(catalog[2]?.endpoints.map((e) => e.url)).toEqual(["https://archway.test/v3", "https://archway.test/v3"]);
    expect(JSON.parse(json)).toEqual(catalog);
  });

  it("builds a set of clouds once, and again when one of its clouds' service lists is read anew", async () => {
    const services = cloudServices(lists());
    const catalogs = new FacadeCatalogs({ catalogs: services, publicUrl: "https://archway.test" });
    const first = await catalogs.of(project("u-alice", ["cloud-1", "cloud-2"]));
    // Another project in the same clouds, found in another order: the same catalog object.
    expect(await catalogs.of(project("u-bob", ["cloud-2", "cloud-1"]))).toBe(first);
    services.refresh("cloud-2", { compute: "http://10.0.0.2:8774/v2.1", network: "http://10.0.0.2:9696" });
    const second = await catalogs.of(project("u-alice", ["cloud-1", "cloud-2"]));
    expect(second).not.toBe(first);
    expect(second.catalog.map((s) => s.type)).toEqual(["compute", "dns", "identity", "network"]);
    expect(services.reads()).toBe(3);
  });

  it("lists only the regions of the scoped project, and an alias only its one cloud", async () => {
    const catalogs = new FacadeCatalogs({ catalogs: cloudServices(lists()), publicUrl: "https://archway.test" });
    const regions = async (scope: ProjectScope) => [
      ...new Set((await catalogs.of(scope)).catalog.flatMap((s) => s.endpoints.map((e) => e.region))),
    ];
    expect(await regions(project("ops", ["cloud-1", "cloud-2"]))).toEqual(["cloud-1", "cloud-2"]);
    expect(await regions(project("u-bob", ["cloud-1"]))).toEqual(["cloud-1"]);
    expect(await regions(project("cloud-2:ops", ["cloud-1", "cloud-2"]))).toEqual(["cloud-2"]);
  });

  it("joins the serialized catalog into the token document exactly where the object would put it", async () => {
    const catalogs = new FacadeCatalogs({ catalogs: cloudServices(lists()), publicUrl: "https://archway.test" });
    const scoped = project("u-alice", ["cloud-1"]);
    const { catalog, json } = await catalogs.of(scoped);
    const facts = {
      identity: {
        id: "demo:alice",
        source: "demo",
        username: "alice",
        groups: [],
        groupDns: [],
        sshKeys: [],
        attributes: {},
      },
      methods: ["token"],
      auditIds: ["a1"],
      issuedAt: 0,
      expiresAt: 1_000,
      project: scoped,
    };
    expect(tokenJson(facts, json)).toBe(JSON.stringify(tokenBody({ ...facts, catalog })));
    expect(tokenJson(facts)).toBe(JSON.stringify(tokenBody(facts)));
  });
});
