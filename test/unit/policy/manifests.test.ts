import { describe, expect, it } from "vitest";
import { compilePolicies, desiredState, manifestsOf } from "../../../src/policy/index.js";
import { allow, compileOk, ctx, person } from "./fixtures.js";

const flavors = (name: string, spec: string) =>
  `apiVersion: archway.dev/v1\nkind: FlavorSet\nmetadata: { name: ${name} }\nspec:\n${spec}\n`;

function problems(text: string): string[] {
  return compilePolicies([{ file: "m.yaml", text }], ctx).problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
}

describe("manifests in the policies folder", () => {
  it("compiles a FlavorSet with its clouds resolved like a policy's", () => {
    const set = compileOk(
      flavors(
        "edge",
        "  clouds: { labels: { kind: edge }, exclude: [store-0100] }\n  flavors: [{ name: m1.small, vcpus: 1, ram: 2048, disk: 20 }]",
      ),
    );
    expect(set.policies).toEqual([]);
    expect(set.manifests).toMatchObject([
      {
        kind: "FlavorSet",
        name: "edge",
        origin: "test.yaml:1",
        clouds: ["store-0001", "store-0002"],
        flavors: [{ name: "m1.small", vcpus: 1, ram: 2048, disk: 20, ephemeral: 0, swap: 0, public: true }],
      },
    ]);
  });

  it("puts each manifest in the desired state of exactly its clouds, even where nobody has access", () => {
    const set = compileOk(
      [
        flavors(
          "edge",
          "  clouds: { labels: { kind: edge } }\n  flavors: [{ name: m1.small, vcpus: 1, ram: 2048, disk: 20 }]",
        ),
        allow("ops", "  clouds: { names: [region-1] }\n  grants: [{ project: ops, roles: [member] }]"),
      ].join("---\n"),
    );
    const desired = desiredState([person()], set);
    expect([...desired.keys()]).toEqual(["region-1", "store-0001", "store-0002", "store-0100"]);
    expect(desired.get("region-1")?.manifests).toBeUndefined();
    const store = desired.get("store-0001");
    expect(store?.users).toEqual([]);
    expect(manifestsOf(store ?? { manifests: [] }, "FlavorSet").map((m) => m.name)).toEqual(["edge"]);
  });

  it("refuses what a person would get wrong, each at its line", () => {
    expect(
      problems(
        flavors("f", "  flavors: [{ name: a, vcpus: 1, ram: 1, disk: 0 }, { name: a, vcpus: 2, ram: 1, disk: 0 }]"),
      ),
    ).toEqual(["5: spec.flavors[1].name: flavor 'a' is listed twice in this set"]);
    expect(problems(flavors("f", "  flavors: [{ name: a, vcpus: 1, ram: 1, disk: 0, projects: [x] }]"))).toEqual([
      expect.stringMatching(/spec\.flavors\[0\]\.projects: projects apply to private flavors only/),
    ]);
    expect(
      problems(flavors("f", "  clouds: { names: [nowhere] }\n  flavors: [{ name: a, vcpus: 1, ram: 1, disk: 0 }]")),
    ).toEqual([expect.stringMatching(/spec\.clouds\.names\[0\]: unknown cloud 'nowhere'/)]);
    expect(problems("apiVersion: archway.dev/v1\nkind: ImageSett\nmetadata: { name: x }\nspec: {}\n")).toEqual([
      expect.stringMatching(/^2: kind: /),
    ]);
  });

  it("keeps names unique per kind: a FlavorSet may share a policy's name, not another FlavorSet's", () => {
    const one = flavors("same", "  flavors: [{ name: a, vcpus: 1, ram: 1, disk: 0 }]");
    expect(problems([one, allow("same", "  grants: [{ project: p, roles: [member] }]")].join("---\n"))).toEqual([]);
    expect(problems([one, one].join("---\n"))).toEqual([
      expect.stringMatching(/metadata\.name: FlavorSet 'same' is already defined at m\.yaml:3/),
    ]);
  });
});
