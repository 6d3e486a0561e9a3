import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LdapSourceConfig, LdapSourceSchema } from "../../../src/config/index.js";
import { LdapSource } from "../../../src/identity/index.js";
import { describeIdentityConformance } from "../../conformance/identity.js";
import { ldapAdmin, startService, stopService } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";

const METRICS_TOKEN = "ldap-test-metrics-token-0123456789";

// Against the test environment's real slapd (see test/env/gen-ldif.mjs for the directory).
const env = loadEndpoints();
const sources: LdapSource[] = [];

function source(over: Partial<LdapSourceConfig> & Record<string, unknown> = {}): LdapSource {
  const config = LdapSourceSchema.parse({
    id: "corp",
    type: "ldap",
    preset: "openldap",
    urls: [env.ldap.url],
    baseDn: env.ldap.baseDn,
    userBaseDn: env.ldap.peopleDn,
    groupBaseDn: env.ldap.groupsDn,
    bindDn: env.ldap.bindDn,
    bindPassword: env.ldap.bindPassword,
    disabledFilter: "(employeeType=disabled)",
    timeoutMs: 3_000,
    ...over,
  });
  const s = new LdapSource(config);
  sources.push(s);
  return s;
}
afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
});

describeIdentityConformance("ldap", () => ({
  source: source(),
  user: {
    username: "user0001",
    password: "pass-user0001",
    groups: ["group01", "everyone", "nested-inner", "nested-outer"],
  },
  other: { username: "user0002", password: "pass-user0002" },
  disabled: { username: "user0999", password: "pass-user0999" },
}));

describe("LDAP source against slapd", () => {
  it("maps a person: entryUUID id, mail, cn, groups with DNs, SSH keys", async () => {
    const alice = await source().login("user0003", "pass-user0003");
    expect(alice).toMatchObject({ username: "user0003", email: "user0003@example.org", displayName: "User 0003" });
    expect(alice?.id).toMatch(/^corp:[0-9a-f-]{36}$/);
    expect(alice?.groups).toEqual(["everyone", "group03"]);
    expect(alice?.groupDns).toContain(`cn=group03,${env.ldap.groupsDn}`);
    expect(alice?.sshKeys).toEqual([expect.stringMatching(/^ssh-ed25519 AAAA\S+ user0003@example$/)]);
  });

  it("refuses both kinds of disabled account: ppolicy lock and the configured filter", async () => {
    const s = source();
    expect(await s.login("user0999", "pass-user0999")).toBeNull();
    expect(await s.login("user0998", "pass-user0998")).toBeNull();
    expect(await s.lookup("user0998")).toBeNull();
  });

  it.each([
    "*",
    ")(uid=*",
    "user0001)(uid=*",
    "*)(|(uid=*",
    "user000*",
    "user0001\u0000",
    "\\00",
    "user0001*",
    "(uid=user0001)",
  ])("never matches anyone for the injection attempt %j", async (attempt) => {
    const s = source();
    expect(await s.login(attempt, "pass-user0001")).toBeNull();
    expect(await s.lookup(attempt)).toBeNull();
  });

  it("handles non-ASCII and quotes in usernames exactly", async () => {
    const s = source();
    expect((await s.login("jürgen", "pass-jürgen"))?.username).toBe("jürgen");
    expect(await s.login("jurgen", "pass-jürgen")).toBeNull();
    expect((await s.login("o'brien", "pass-o'brien"))?.username).toBe("o'brien");
  });

  it("resolves nested groups through a cycle, in memberOf and in group-search mode", async () => {
    for (const s of [source(), source({ groups: { mode: "search", nested: true, maxDepth: 10 } })]) {
      const u1 = await s.lookup("user0001");
      expect(u1?.groups).toEqual(expect.arrayContaining(["nested-inner", "nested-outer"]));
      const u2 = await s.lookup("user0002");
      expect(u2?.groups).toEqual(expect.arrayContaining(["cycle-a", "cycle-b", "group02"]));
    }
    const flat = await source({ groups: { nested: false, maxDepth: 10 } }).lookup("user0001");
    expect(flat?.groups).not.toContain("nested-outer");
  });

  it("enumerates 10,000 people page by page", async () => {
    const s = source({ userBaseDn: env.ldap.bulkDn, pageSize: 500 });
    const seen = new Set<string>();
    for await (const identity of s.list()) seen.add(identity.username);
    expect(seen.size).toBe(env.ldap.bulkUsers);
    expect(seen.has("bulk10000")).toBe(true);
  });

  it("lists only the people changed since a mark", async () => {
    const s = source();
    // modifyTimestamp has a one-second resolution: step past the current second first.
    await new Promise((r) => setTimeout(r, 1_100));
    const mark = await s.mark();
    await new Promise((r) => setTimeout(r, 1_100));
    const admin = await ldapAdmin();
    try {
      await admin.modify(`uid=user0005,${env.ldap.peopleDn}`, [
        new (await import("ldapts")).Change({
          operation: "replace",
          modification: new (await import("ldapts")).Attribute({
            type: "description",
            values: [`changed ${Date.now()}`],
          }),
        }),
      ]);
    } finally {
      await admin.unbind();
    }
    const changed: string[] = [];
    for await (const identity of s.list({ changedSince: mark })) changed.push(identity.username);
    expect(changed).toEqual(["user0005"]);
  });

  it("speaks ldaps and StartTLS with the right CA, and fails closed with a clear message on a wrong CA", async () => {
    expect((await source({ urls: [env.ldap.ldapsUrl], caFile: env.ca.certFile }).lookup("user0001"))?.username).toBe(
      "user0001",
    );
    expect((await source({ startTls: true, caFile: env.ca.certFile }).lookup("user0001"))?.username).toBe("user0001");
    const wrong = source({ urls: [env.ldap.ldapsUrl], caFile: env.ca.otherCaCertFile });
    await expect(wrong.login("user0001", "pass-user0001")).rejects.toMatchObject({
      code: "directory_unavailable",
      status: 503,
      message: expect.stringMatching(/TLS certificate not trusted/),
    });
  });

  it("fails over to the next URL when the first does not answer", async () => {
    const s = source({ urls: ["ldap://127.0.0.1:1", env.ldap.url] });
    expect((await s.login("user0001", "pass-user0001"))?.username).toBe("user0001");
  });

  describe("when slapd stops mid-run", () => {
    let s: LdapSource;
    beforeAll(async () => {
      s = source();
      expect(await s.login("user0001", "pass-user0001")).not.toBeNull();
    });
    afterAll(() => startService("slapd"));

    it("answers directory_unavailable (503), does not crash, and recovers when it returns", async () => {
      const { ConfigSchema } = await import("../../../src/config/index.js");
      const { createApp } = await import("../../../src/http/index.js");
      const { createLogger } = await import("../../../src/log/index.js");
      const { MemoryStore } = await import("../../../src/store/index.js");
      const { KeyRing, TokenService } = await import("../../../src/tokens/index.js");
      const store = new MemoryStore();
      const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 3_600_000, overlapMs: 600_000 });
      const { app } = createApp({
        config: ConfigSchema.parse({ metrics: { bearerToken: METRICS_TOKEN } }),
        log: createLogger({ level: "silent" }),
        store,
        sources: [s],
        keys,
        tokens: new TokenService({ store, keys, issuer: "http://127.0.0.1" }),
      });
      stopService("slapd");
      await expect(s.login("user0001", "pass-user0001")).rejects.toMatchObject({
        code: "directory_unavailable",
        status: 503,
      });
      await expect(s.ping()).rejects.toMatchObject({ code: "directory_unavailable" });
      // The checks are detailed for the metrics scraper's bearer token only (docs/operations.md).
      const ready = await app.request("/readyz", { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({
        checks: { "source:corp": { ok: false, error: expect.stringMatching(/directory unavailable/) } },
      });
      startService("slapd");
      expect((await s.login("user0001", "pass-user0001"))?.username).toBe("user0001");
      expect((await app.request("/readyz")).status).toBe(200);
    });
  });
});

describe("archway identity lookup", () => {
  it("prints what the LDAP source sees for a person", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const { runCli } = await import("../../../src/main.js");
    const { captureIO } = await import("../../helpers/io.js");
    const dir = mkdtempSync(join(tmpdir(), "archway-lookup-"));
    try {
      writeFileSync(
        join(dir, "archway.yaml"),
        [
          "identity:",
          "  sources:",
          "    - id: corp",
          "      type: ldap",
          `      urls: ["${env.ldap.url}"]`,
          `      baseDn: "${env.ldap.baseDn}"`,
          `      bindDn: "${env.ldap.bindDn}"`,
          "      bindPassword: ${env:LDAP_BIND_PW}",
          "deploymentId: ldap-it",
          "",
        ].join("\n"),
      );
      const io = captureIO({ LDAP_BIND_PW: env.ldap.bindPassword });
      expect(await runCli(["identity", "lookup", "corp", "user0003", "--config", join(dir, "archway.yaml")], io)).toBe(
        0,
      );
      expect(io.stdout()).toMatch(/username: +user0003/);
      expect(io.stdout()).toMatch(/groups: +everyone, group03/);
      expect(io.stdout()).toMatch(/ssh-ed25519 AAAA/);
      const missing = captureIO({ LDAP_BIND_PW: env.ldap.bindPassword });
      expect(
        await runCli(["identity", "lookup", "corp", "user0999", "--config", join(dir, "archway.yaml")], missing),
      ).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
