import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { buildGateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime } from "../../../src/cli/runtime.js";
import { LdapSourceSchema, type LockoutConfigInput, LockoutConfigSchema } from "../../../src/config/index.js";
import type { ArchwayError } from "../../../src/errors.js";
import { startServer } from "../../../src/http/index.js";
import { LdapSource, LoginGuard, type PasswordSource, TooManyAttempts } from "../../../src/identity/index.js";
import { runCli } from "../../../src/main.js";
import { RedisStore } from "../../../src/store/index.js";
import { concurrentAttempts } from "../../conformance/attempts.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";

// The review's lockout attacks replayed against the real slapd and the real Redis of the test environment.
const env = loadEndpoints();
const closers: (() => Promise<unknown>)[] = [];
const dir = mkdtempSync(join(tmpdir(), "archway-guard-"));
afterAll(async () => {
  await Promise.allSettled(closers.map((c) => c()));
  rmSync(dir, { recursive: true, force: true });
});

const LDAP = {
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
};

/** A Redis store under a fresh prefix: every test starts with no counters. */
function redis(prefix = `guard-it-${randomUUID()}:`): RedisStore {
  const store = new RedisStore({ type: "redis", url: env.redis.url, keyPrefix: prefix, db: 0, tls: false });
  closers.push(() => store.close());
  return store;
}

/** The real LDAP source, counting the checks that reach slapd. */
function ldap(): PasswordSource & { checks(): number } {
  const source = new LdapSource(LdapSourceSchema.parse(LDAP));
  closers.push(() => source.close());
  let checks = 0;
  return {
    id: source.id,
    type: source.type,
    ping: () => source.ping(),
    close: () => source.close(),
    login: (u, p) => {
      checks++;
      return source.login(u, p);
    },
    checks: () => checks,
  };
}

function guardOn(store: RedisStore, limits: LockoutConfigInput = {}) {
  return new LoginGuard({ store, audit: async () => {}, limits: LockoutConfigSchema.parse(limits) });
}

const status = (p: Promise<unknown>) =>
  p.then(
    () => 201,
    (e: ArchwayError) => e.status,
  );

describe("lockout against concurrency (real Redis, real slapd)", () => {
  it("30 simultaneous logins (29 wrong, 1 right): at most `limit` reach the directory", async () => {
    const source = ldap();
    const guard = guardOn(redis(), { perUserAndAddress: { maxFailures: 5 } });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        status(guard.login(source, "user0002", i === 29 ? "pass-user0002" : `wrong-${i}`, "203.0.113.30")),
      ),
    );
    expect(source.checks()).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    expect(statuses).not.toContain(201);
  });

  it("however N concurrent attempts interleave on Redis, at most `limit` wrong passwords are checked", async () => {
    const store = redis();
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.record({ right: fc.boolean(), delayMs: fc.integer({ min: 0, max: 8 }) }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (limit, attempts) => {
          const run = await concurrentAttempts({
            store,
            limit,
            rights: attempts.map((a) => a.right),
            pause: (i) => sleep(attempts[i]?.delayMs ?? 0),
          });
          expect(run.wrongChecks).toBeLessThanOrEqual(limit);
          expect(run.maxInFlight).toBeLessThanOrEqual(limit);
          if (!attempts.some((a) => a.right)) expect(run.checks).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("lockout against spelling (real slapd)", () => {
  it("slapd accepts the fullwidth spelling, and every variant shares the lock of the plain name", async () => {
    const source = ldap();
    // The premise of the attack: the directory folds `ｕser0002` to user0002.
    expect(await source.login("ｕser0002", "pass-user0002")).toMatchObject({ username: "user0002" });
    const guard = guardOn(redis(), { perUserAndAddress: { maxFailures: 5 } });
    for (const name of ["user0002", "USER0002", " user0002", "User0002 ", "ｕser0002"])
      expect(await status(guard.login(source, name, "wrong", "203.0.113.31"))).toBe(401);
    for (const name of ["user0002", "ｕser0002", "ＵＳＥＲ０００２", "  uSeR0002"]) {
      const refused = await guard.login(source, name, "pass-user0002", "203.0.113.31").catch((e: unknown) => e);
      expect(refused, name).toBeInstanceOf(TooManyAttempts);
    }
  });

  it("once user0002 has signed in, the lock follows the person's stable id", async () => {
    const source = ldap();
    const store = redis();
    const guard = guardOn(store, { perUserAndAddress: { maxFailures: 3 } });
    const person = await guard.login(source, "user0002", "pass-user0002", "203.0.113.32");
    expect(person.id).toMatch(/^corp:[0-9a-f-]{36}$/);
    expect(await store.get(`guard:alias:corp:user0002`)).toBe(person.id);
    for (let i = 0; i < 3; i++) await guard.login(source, "User0002", `wrong-${i}`, "203.0.113.33").catch(() => 0);
    // Another process, nothing remembered in memory: the link comes from Redis.
    const other = guardOn(store, { perUserAndAddress: { maxFailures: 3 } });
    await expect(other.login(source, "ｕｓｅｒ0002", "pass-user0002", "203.0.113.33")).rejects.toBeInstanceOf(
      TooManyAttempts,
    );
  });
});

describe("nobody can lock anybody out (real slapd, real Redis)", () => {
  it("after a burst of wrong passwords from an attacker, the right one logs in from another address", async () => {
    const source = ldap();
    const guard = guardOn(redis());
    for (const name of ["user0004", "USER0004", " user0004", "ｕser0004", "user0004 ", "User0004", "user0004"])
      await guard.login(source, name, "guess", "198.51.100.66").catch(() => 0);
    await expect(guard.login(source, "user0004", "pass-user0004", "198.51.100.66")).rejects.toBeInstanceOf(
      TooManyAttempts,
    );
    await expect(guard.login(source, "user0004", "pass-user0004", "192.0.2.44")).resolves.toMatchObject({
      username: "user0004",
    });
    // The attacker's pair stays refused.
    await expect(guard.login(source, "user0004", "pass-user0004", "198.51.100.66")).rejects.toBeInstanceOf(
      TooManyAttempts,
    );
  });

  it("50 failures from one address lock out nobody behind it", async () => {
    const source = ldap();
    const guard = guardOn(redis());
    for (let i = 10; i < 60; i++)
      expect(await status(guard.login(source, `user00${i}`, "wrong", "198.51.100.50"))).toBe(401);
    for (const n of ["0005", "0006"])
      await expect(guard.login(source, `user${n}`, `pass-user${n}`, "198.51.100.50")).resolves.toMatchObject({
        username: `user${n}`,
      });
  }, 60_000);
});

describe("through the real /v3 facade behind a trusted proxy (slapd, Redis)", () => {
  it("an attacker's burst refuses only the attacker; the person signs in from their own address", async () => {
    const file = join(dir, "facade.yaml");
    mkdirSync(join(dir, "policies"), { recursive: true });
    writeFileSync(
      file,
      JSON.stringify({
        deploymentId: "guard-it",
        listen: { host: "127.0.0.1", port: 0 },
        store: { type: "redis", url: env.redis.url, keyPrefix: `guard-it-facade-${randomUUID()}:` },
        identity: { sources: [LDAP] },
        http: { trustedProxies: ["127.0.0.0/8", "::1"] },
        policiesDir: "policies",
        log: { level: "silent" },
      }),
    );
    const runtime = buildRuntime(file, captureIO(process.env));
    const gateway = buildGateway(runtime);
    const server = await startServer(gatewayApp(runtime, gateway).app, {
      host: "127.0.0.1",
      port: 0,
      log: runtime.log,
    });
    closers.push(async () => {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
    });
    // Our proxy (loopback, trusted) appends the address it saw; what the client wrote before it is not believed.
    const login = (name: string, password: string, from: string) =>
      fetch(`${server.url}/v3/auth/tokens`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `10.0.0.1, ${from}` },
        body: JSON.stringify({
          auth: {
            identity: { methods: ["password"], password: { user: { name, domain: { id: "default" }, password } } },
          },
        }),
      });
    for (const name of ["user0008", "USER0008", " user0008", "ｕser0008", "User0008"])
      expect((await login(name, "guess", "203.0.113.80")).status).toBe(401);
    const refused = await login("user0008", "pass-user0008", "203.0.113.80");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login("user0008", "pass-user0008", "192.0.2.80")).status).toBe(201);
    expect((await login("user0008", "pass-user0008", "203.0.113.80")).status).toBe(429);
    // The spoofed first hop is nobody's: the attacker cannot pick 192.0.2.80's pair by writing it first.
    const spoof = await fetch(`${server.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "192.0.2.80, 203.0.113.80" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "user0008", domain: { id: "default" }, password: "pass-user0008" } },
          },
        },
      }),
    });
    expect(spoof.status).toBe(429);
  });
});

describe("archway identity unlock against Redis", () => {
  it("clears the lock that serve's processes see, and audits it in the shared stream", async () => {
    const prefix = `guard-it-cli-${randomUUID()}:`;
    const store = redis(prefix);
    const source = ldap();
    const guard = guardOn(store);
    for (let i = 0; i < 5; i++) await guard.login(source, "user0007", `wrong-${i}`, "198.51.100.77").catch(() => 0);
    await expect(guard.login(source, "user0007", "pass-user0007", "198.51.100.77")).rejects.toBeInstanceOf(
      TooManyAttempts,
    );
    const file = join(dir, "archway.yaml");
    writeFileSync(
      file,
      JSON.stringify({
        deploymentId: "guard-it",
        store: { type: "redis", url: env.redis.url, keyPrefix: prefix },
        identity: { sources: [LDAP] },
        log: { level: "silent" },
      }),
    );
    const io = captureIO({ USER: "ops" });
    expect(await runCli(["identity", "unlock", "USER0007", "--json", "--config", file], io)).toBe(0);
    const result = JSON.parse(io.stdout());
    expect(result).toMatchObject({ known: true, cleared: expect.any(Number) });
    expect(result.cleared).toBeGreaterThan(0);
    await expect(guard.login(source, "user0007", "pass-user0007", "198.51.100.77")).resolves.toMatchObject({
      username: "user0007",
    });
    const audit = await store.read("audit", { latest: true, limit: 10 });
    expect(audit.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ type: "login.unlocked", actor: "cli:ops", person: "USER0007", via: "cli" }),
    );
    expect(await runCli(["identity", "unlock", "no-such-person-here", "--config", file], captureIO())).toBe(1);
  });
});
