import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigSchema, didYouMean, keysAt } from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

describe("did you mean", () => {
  it("suggests the closest name within a typo's distance, and nothing for a different word", () => {
    expect(didYouMean("prot", ["port", "host"])).toBe(" (did you mean 'port'?)");
    expect(didYouMean("identiy", ["identity", "idp"])).toBe(" (did you mean 'identity'?)");
    expect(didYouMean("Cloud-1", ["cloud-1", "cloud-2"])).toBe(" (did you mean 'cloud-1'?)");
    expect(didYouMean("clouds-dir", ["cloudsDir"])).toBe(" (did you mean 'cloudsDir'?)");
    expect(didYouMean("keystone", ["clouds", "listen"])).toBe("");
    expect(didYouMean("zebra", ["port", "host", "listen"])).toBe("");
    expect(didYouMean("x", [])).toBe("");
  });

  it("finds the keys a schema accepts at a path, through optional, default, array and union wrappers", () => {
    expect(keysAt(ConfigSchema, [])).toEqual(expect.arrayContaining(["listen", "identity", "clouds", "sync"]));
    expect(keysAt(ConfigSchema, ["listen"])).toEqual(expect.arrayContaining(["host", "port"]));
    expect(keysAt(ConfigSchema, ["clouds", 0])).toEqual(expect.arrayContaining(["authUrl", "region", "labels"]));
    expect(keysAt(ConfigSchema, ["identity", "sources", 0])).toEqual(expect.arrayContaining(["baseDn", "users"]));
    expect(keysAt(ConfigSchema, ["nope", "deeper"])).toEqual([]);
  });
});

describe("hints in config check and policy check", () => {
  it("names the key, cloud, label and source a typo was probably meant to be", async () => {
    const dir = mkdtempSync(join(tmpdir(), "archway-hints-"));
    try {
      mkdirSync(join(dir, "policies"));
      writeFileSync(
        join(dir, "archway.yaml"),
        [
          "clouds:",
          "  - { id: cloud-1, authUrl: 'http://127.0.0.1:1/v3', region: r1, labels: { kind: edge }, admin: { username: a, password: b } }",
          "identity: { sources: [{ id: corp, type: static, users: [] }] }",
          "roles: [member, reader]",
          "policiesDir: policies",
          "deploymentId: t",
          "",
        ].join("\n"),
      );
      const typoKey = captureIO();
      writeFileSync(join(dir, "typo.yaml"), "listen: { hots: 127.0.0.1 }\n");
      expect(await runCli(["config", "check", "--config", join(dir, "typo.yaml")], typoKey)).toBe(2);
      expect(typoKey.stderr()).toMatch(/listen: unknown key 'hots' \(did you mean 'host'\?\)/);

      writeFileSync(
        join(dir, "policies", "p.yaml"),
        [
          "apiVersion: archway.dev/v1",
          "kind: AccessPolicy",
          "metadata: { name: p }",
          "spec:",
          "  subjects: { sources: [crop] }",
          "  clouds: { names: [cloud-l], labels: { knd: edge } }",
          "  grants: [{ project: p, roles: [membr] }]",
          "",
        ].join("\n"),
      );
      const io = captureIO();
      expect(await runCli(["policy", "check", "--config", join(dir, "archway.yaml")], io)).toBe(2);
      const err = io.stderr();
      expect(err).toMatch(/unknown cloud 'cloud-l' \(did you mean 'cloud-1'\?\)/);
      expect(err).toMatch(/no cloud has the label 'knd' \(did you mean 'kind'\?\)/);
      expect(err).toMatch(/unknown identity source 'crop' \(did you mean 'corp'\?\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("one cloud per Keystone and domain", () => {
  it("refuses two clouds on the same Keystone and domain, however the URL is spelled; another domain is fine", async () => {
    const dir = mkdtempSync(join(tmpdir(), "archway-same-ks-"));
    try {
      const cloud = (id: string, url: string, domain?: string) =>
        `  - { id: ${id}, authUrl: '${url}', region: ${id}, ${domain ? `domain: ${domain}, ` : ""}admin: { username: a, password: b } }`;
      const write = (...clouds: string[]) => {
        writeFileSync(join(dir, "archway.yaml"), ["clouds:", ...clouds, "deploymentId: t", ""].join("\n"));
        return join(dir, "archway.yaml");
      };
      const same = captureIO();
      const file = write(cloud("a", "http://127.0.0.1:5000/v3"), cloud("b", "HTTP://127.0.0.1:5000/v3/"));
      expect(await runCli(["config", "check", "--config", file], same)).toBe(2);
      expect(same.stderr()).toMatch(/clouds\[1\]: cloud 'b' is the same Keystone .* and domain 'archway' as cloud 'a'/);
      const other = captureIO();
      const ok = write(cloud("a", "http://127.0.0.1:5000/v3"), cloud("b", "http://127.0.0.1:5000/v3", "second"));
      expect(await runCli(["config", "check", "--config", ok], other)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
