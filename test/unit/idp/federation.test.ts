import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { federationGroupName } from "../../../src/policy/index.js";
import { captureIO } from "../../helpers/io.js";

const ISSUER = "https://archway.example";

describe("federation group names", () => {
  it("readable when they fit, hashed otherwise, never with ';'", () => {
    expect(federationGroupName({ project: "shared", projectDomain: "archway", role: "member" }, "archway")).toBe(
      "shared:member",
    );
    expect(federationGroupName({ project: "ops", projectDomain: "Default", role: "reader" }, "archway")).toBe(
      "Default/ops:reader",
    );
    const long = federationGroupName({ project: "p".repeat(64), projectDomain: "archway", role: "member" }, "archway");
    expect(long).toMatch(/^archway-[0-9a-f]{32}$/);
    expect(federationGroupName({ project: "a;b", projectDomain: "archway", role: "x" }, "archway")).toMatch(
      /^archway-/,
    );
  });
});

describe("archway federation snippet", () => {
  const dir = mkdtempSync(join(tmpdir(), "archway-fed-snippet-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "archway.yaml");
  writeFileSync(
    file,
    `publicUrl: ${ISSUER}\ndeploymentId: t\npoliciesDir: .\nclouds:\n` +
      "  - { id: fed-1, authUrl: 'http://127.0.0.1:15011/v3', mode: federated, admin: { username: a, password: b } }\n" +
      "  - { id: c-1, authUrl: 'http://127.0.0.1:15001/v3', admin: { username: a, password: b } }\n" +
      "idp:\n  clients:\n    - { id: cli, secret: s, grants: [password], clouds: [fed-1] }\n",
  );

  it("prints the mod_auth_openidc and keystone.conf lines for a federated cloud", async () => {
    const io = captureIO();
    expect(await runCli(["federation", "snippet", "fed-1", "--config", file], io)).toBe(0);
    const out = io.stdout();
    expect(out).toContain(`OIDCOAuthVerifyJwksUri ${ISSUER}/.well-known/jwks.json`);
    expect(out).toContain("remote_id_attribute = OIDC_CLAIM_iss");
    expect(out).toContain('<Location ~ "^/v3/OS-FEDERATION/identity_providers/archway/protocols/openid/auth$">');
    expect(out).toContain("OS_CLIENT_ID=cli");
  });

  it("config check: a client's clouds must exist and be federated", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "policiesDir: .\nclouds:\n  - { id: c-1, authUrl: 'http://127.0.0.1:15001/v3', admin: { username: a, password: b } }\n" +
        "idp:\n  clients:\n    - { id: cli, secret: s, grants: [password], clouds: [c-1, nope] }\n",
    );
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", bad], io)).toBe(2);
    expect(io.stderr()).toMatch(/idp\.clients\[0\]\.clouds\[0\]: cloud 'c-1' is not in federated mode/);
    expect(io.stderr()).toMatch(/idp\.clients\[0\]\.clouds\[1\]: unknown cloud 'nope'/);
  });

  it("refuses a brokered cloud with a clear line", async () => {
    const io = captureIO();
    expect(await runCli(["federation", "snippet", "c-1", "--config", file], io)).toBe(2);
    expect(io.stderr()).toMatch(/brokered mode/);
  });
});
