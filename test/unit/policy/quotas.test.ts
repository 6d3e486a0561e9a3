import { describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import {
  desiredState,
  evaluate,
  explain,
  formatExplanation,
  mergeQuotas,
  PolicyManifestSchema,
  WITH_MFA,
} from "../../../src/policy/index.js";
import { allow, compileOk, person } from "./fixtures.js";

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

describe("quotas in the desired state", () => {
  const teamPolicy = (name: string, group: string, quotas: string) =>
    allow(
      name,
      `  subjects: { groups: { anyOf: [${group}] } }\n  clouds: { names: [region-1] }\n  grants:\n    - { project: team-a, roles: [member], quotas: ${quotas} }`,
    );
  const text = [
    teamPolicy("small", "devs", "{ compute: { cores: 8, ram: 4096 }, network: { port: 10 } }"),
    teamPolicy("big", "leads", "{ compute: { cores: 16, ram: -1 }, volume: { volumes: 3 } }"),
  ].join("---\n");
  const alice = person({ username: "alice", groups: ["devs", "leads"] });
  const bob = person({ username: "bob", groups: ["devs"] });
  const carol = person({ username: "carol", groups: ["leads"] });

  it("two policies naming one resource: the larger limit (-1 largest), whatever the order", () => {
    const expected = { compute: { cores: 16, ram: -1 }, network: { port: 10 }, volume: { volumes: 3 } };
    for (const set of [compileOk(text), compileOk(text.split("---\n").reverse().join("---\n"))]) {
      const access = evaluate(alice, set, WITH_MFA).get("region-1");
      expect(access?.projects[0]?.quotas).toEqual(expected);
      for (const people of [
        [bob, carol],
        [carol, bob],
      ]) {
        expect(desiredState(people, set).get("region-1")?.projects[0]?.quotas).toEqual(expected);
      }
    }
  });

  it("one frozen object shared by every person a grant gives it to, never copied", () => {
    const set = compileOk(text);
    const [a, b] = [person({ username: "a", groups: ["devs"] }), person({ username: "b", groups: ["devs"] })].map(
      (p) => evaluate(p, set, WITH_MFA).get("region-1")?.projects[0]?.quotas,
    );
    expect(a).toBe(b);
    expect(Object.isFrozen(a) && Object.isFrozen(a?.compute)).toBe(true);
    const desired = desiredState([bob, person({ username: "dave", groups: ["devs"] })], set);
    expect(desired.get("region-1")?.projects[0]?.quotas).toBe(a);
  });

  it("mergeQuotas returns an input when it already holds the merge", () => {
    const a = { compute: { cores: 8 } };
    const b = { compute: { cores: 4 } };
    expect(mergeQuotas(a, b)).toBe(a);
    expect(mergeQuotas(b, a)).toBe(a);
    expect(mergeQuotas(undefined, b)).toBe(b);
    expect(mergeQuotas(a, { compute: { cores: -1 } })).toEqual({ compute: { cores: -1 } });
  });

  it("explain shows the quotas a grant sets", () => {
    const out = formatExplanation(explain(alice, compileOk(text)));
    expect(out).toContain(
      "quotas of archway/team-a: compute cores=16 ram=unlimited; volume volumes=3; network port=10",
    );
  });
});
