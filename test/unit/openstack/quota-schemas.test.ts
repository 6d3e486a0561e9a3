import { describe, expect, it } from "vitest";
import {
  effectiveLimits,
  type Limit,
  NeutronQuotaDetailsReplySchema,
  NeutronQuotaReplySchema,
  QuotaSetReplySchema,
  QuotaSetUsageReplySchema,
  type RegisteredLimit,
} from "../../../src/openstack/index.js";

describe("quota reply schemas", () => {
  it("reads a Nova/Cinder quota set without its id, keeping every resource (Cinder's per-type ones too)", () => {
    const reply = { quota_set: { id: "p1", volumes: 10, gigabytes: 1000, volumes___DEFAULT__: -1 } };
    expect(QuotaSetReplySchema.parse(reply)).toEqual({ volumes: 10, gigabytes: 1000, volumes___DEFAULT__: -1 });
  });

  it("reads Nova's /detail and Cinder's ?usage=true as limit and in-use", () => {
    const reply = {
      quota_set: {
        id: "p1",
        cores: { limit: 20, in_use: 3, reserved: 0 },
        ram: { limit: -1, in_use: 2048, reserved: 0 },
      },
    };
    expect(QuotaSetUsageReplySchema.parse(reply)).toEqual({
      cores: { limit: 20, inUse: 3 },
      ram: { limit: -1, inUse: 2048 },
    });
  });

  it("reads Neutron's quotas and /details (used, not in_use)", () => {
    expect(NeutronQuotaReplySchema.parse({ quota: { network: 100, port: 500 } })).toEqual({ network: 100, port: 500 });
    const details = {
      quota: { network: { limit: 3, used: 1, reserved: 0 }, router: { limit: 10, used: 0, reserved: 0 } },
    };
    expect(NeutronQuotaDetailsReplySchema.parse(details)).toEqual({
      network: { limit: 3, inUse: 1 },
      router: { limit: 10, inUse: 0 },
    });
  });

  it.each([
    ["a string limit", { quota_set: { cores: "20" } }],
    ["a fractional limit", { quota_set: { cores: 1.5 } }],
    ["a limit below -1", { quota_set: { cores: -2 } }],
    ["no quota_set", { quota: { cores: 20 } }],
  ])("refuses %s instead of reading it as a number", (_what, reply) => {
    expect(QuotaSetReplySchema.safeParse(reply).success).toBe(false);
  });

  it("refuses a usage entry without its count", () => {
    expect(QuotaSetUsageReplySchema.safeParse({ quota_set: { cores: { limit: 20 } } }).success).toBe(false);
    expect(NeutronQuotaDetailsReplySchema.safeParse({ quota: { network: { limit: 3, in_use: 1 } } }).success).toBe(
      false,
    );
  });
});

describe("effectiveLimits (unified limits)", () => {
  const registered = (resource_name: string, default_limit: number, region_id?: string): RegisteredLimit => ({
    id: `r-${resource_name}-${region_id ?? ""}`,
    service_id: "s",
    resource_name,
    default_limit,
    region_id,
  });
  const own = (resource_name: string, resource_limit: number, region_id?: string): Limit => ({
    id: `l-${resource_name}-${region_id ?? ""}`,
    service_id: "s",
    project_id: "p",
    resource_name,
    resource_limit,
    region_id,
  });

  it("takes the registered default unless the project has its own limit", () => {
    expect(effectiveLimits([registered("servers", 10), registered("class:VCPU", 20)], [own("class:VCPU", 5)])).toEqual({
      servers: 10,
      "class:VCPU": 5,
    });
  });

  it("ignores another region's limits, and a regional value wins over a region-less one whatever the order", () => {
    const regs = [registered("servers", 10, "cloud-1"), registered("servers", 99), registered("servers", 7, "cloud-2")];
    expect(effectiveLimits(regs, [], "cloud-1")).toEqual({ servers: 10 });
    expect(effectiveLimits(regs, [own("servers", 3), own("servers", 4, "cloud-2")], "cloud-2")).toEqual({ servers: 4 });
  });
});
