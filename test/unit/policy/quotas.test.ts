import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { PolicyManifestSchema } from "../../../src/policy/index.js";

const policy = (grant: Record<string, unknown>) => ({
  apiVersion: "archway.dev/v1",
  kind: "AccessPolicy",
  metadata: { name: "devs" },
  spec: { grants: [grant] },
});

describe("quotas on a grant", () => {
  it("accepts compute, volume and network limits, -1 for unlimited", () => {
    const quotas = {
      compute: { cores: 20, ram: 51_200, instances: 10, key_pairs: -1 },
      volume: { volumes: 10, gigabytes: 1000, snapshots: 5 },
      network: {
        network: 3,
        port: 50,
        floatingip: 2,
        security_group: 10,
        security_group_rule: 100,
        router: 1,
        subnet: 3,
      },
    };
    const parsed = PolicyManifestSchema.parse(policy({ project: "team-a", roles: ["member"], quotas }));
    expect(parsed.kind === "AccessPolicy" && parsed.spec.grants[0]?.quotas).toEqual(quotas);
  });

  it.each([
    ["an unknown resource (a typo)", { compute: { core: 20 } }, "core"],
    ["an unknown service", { storage: { volumes: 1 } }, "storage"],
    ["a limit below -1", { compute: { cores: -5 } }, "-1 for unlimited"],
    ["a fractional limit", { volume: { gigabytes: 1.5 } }, "int"],
  ])("refuses %s", (_what, quotas, message) => {
    const result = PolicyManifestSchema.safeParse(policy({ project: "team-a", quotas }));
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain(message);
  });

  it("refuses quotas on a project Archway does not own, or on a grant without a project", () => {
    for (const grant of [
      { project: "shared", create: false, quotas: { compute: { cores: 1 } } },
      { groups: ["g"], quotas: { compute: { cores: 1 } } },
    ]) {
      const result = PolicyManifestSchema.safeParse(policy(grant));
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain("quotas apply only to a project Archway creates");
    }
  });
});

describe("quotaBackend on a cloud", () => {
  const cloud = { id: "c1", authUrl: "http://127.0.0.1:5000/v3", admin: { username: "a", password: "b" } };
  it("defaults to the services' quota APIs and accepts unified-limits", () => {
    expect(CloudSchema.parse(cloud).quotaBackend).toBe("service");
    expect(CloudSchema.parse({ ...cloud, quotaBackend: "unified-limits" }).quotaBackend).toBe("unified-limits");
    expect(CloudSchema.safeParse({ ...cloud, quotaBackend: "keystone" }).success).toBe(false);
  });
});
