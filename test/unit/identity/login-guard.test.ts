import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../../src/audit/index.js";
import { type LockoutConfigInput, LockoutConfigSchema } from "../../../src/config/index.js";
import { ArchwayError } from "../../../src/errors.js";
import {
  foldUsername,
  hashPassword,
  type Identity,
  LoginGuard,
  type PasswordSource,
  StaticSource,
  TooManyAttempts,
} from "../../../src/identity/index.js";
import { MemoryStore } from "../../../src/store/index.js";

const HASH = hashPassword("right", { N: 1024 });

/** A static source with alice (and bob), counting how many checks reached it. */
async function setup(limits: LockoutConfigInput = {}, opts: { now?: () => number } = {}) {
  const events: AuditEvent[] = [];
  const user = async (username: string) => ({
    username,
    passwordHash: await HASH,
    groups: [],
    sshKeys: [],
    attributes: {},
    disabled: false,
  });
  const inner = new StaticSource({ id: "demo", type: "static", users: [await user("alice"), await user("bob")] });
  let checks = 0;
  const source: PasswordSource = {
    id: inner.id,
    type: inner.type,
    ping: () => inner.ping(),
    close: () => inner.close(),
    // Static users match exactly; the directory would match folded spellings, as LDAP does.
    login: async (username, password) => {
      checks++;
      return inner.login(foldUsername(username), password);
    },
  };
  const store = new MemoryStore({ now: opts.now });
  const guard = new LoginGuard({
    store,
    audit: async (e) => {
      events.push(e);
    },
    limits: LockoutConfigSchema.parse(limits),
  });
  return { source, guard, events, store, checks: () => checks };
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected a refusal");
    },
    (e: ArchwayError) => e,
  );

describe("LoginGuard: uniform answers and audit", () => {
  it("gives an unknown user and a wrong password the same answer", async () => {
    const { source, guard } = await setup();
    const unknown = await refusal(guard.login(source, "nobody", "right", "10.0.0.1"));
    const wrong = await refusal(guard.login(source, "alice", "wrong", "10.0.0.2"));
    expect(unknown).toBeInstanceOf(ArchwayError);
    expect([unknown.code, unknown.status, unknown.message]).toEqual([wrong.code, wrong.status, wrong.message]);
    expect(wrong).toMatchObject({ code: "login_failed", status: 401, message: "invalid username or password" });
  });

  it("audits every attempt without the password", async () => {
    const { source, guard, events } = await setup();
    await guard.login(source, "alice", "right", "10.0.3.1");
    await guard.login(source, "alice", "s3cret-typo", "10.0.3.1").catch(() => undefined);
    await guard.login(source, "alice", "", "10.0.3.1").catch(() => undefined);
    expect(events.map((e) => [e.type, e.reason])).toEqual([
      ["login.success", undefined],
      ["login.failure", "invalid_credentials"],
      ["login.failure", "empty_password"],
    ]);
    expect(JSON.stringify(events)).not.toMatch(/right|s3cret-typo/);
  });

  it("passes directory outages through as 503, audits them, and does not count them as failures", async () => {
    const { guard, events } = await setup({ perUserAndAddress: { maxFailures: 2 } });
    const down: PasswordSource = {
      id: "corp",
      type: "ldap",
      login: async () => {
        throw new ArchwayError("directory_unavailable", "identity source corp: directory unavailable", 503);
      },
      ping: async () => {},
      close: async () => {},
    };
    for (let i = 0; i < 4; i++)
      await expect(guard.login(down, "alice", "x", "10.0.4.1")).rejects.toMatchObject({
        code: "directory_unavailable",
        status: 503,
      });
    expect(events.at(-1)).toMatchObject({ type: "login.error", reason: "directory_unavailable" });
  });
});

describe("LoginGuard: the attacks of the review, replayed", () => {
  it("30 simultaneous attempts (29 wrong, 1 right) reach the source at most `limit` times", async () => {
    const { source, guard, checks } = await setup({ perUserAndAddress: { maxFailures: 5 } });
    const attempts = Array.from({ length: 30 }, (_, i) =>
      guard.login(source, "alice", i === 17 ? "right" : "wrong", "192.0.2.7").then(
        () => 201,
        (e: ArchwayError) => e.status,
      ),
    );
    const statuses = await Promise.all(attempts);
    expect(checks()).toBeLessThanOrEqual(5);
    // The right password came too late to be checked: refused like the rest, never let through past the limit.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    expect(statuses).not.toContain(201);
  });

  it("spellings the directory folds together share one lock (case, spaces, fullwidth)", async () => {
    const { source, guard, checks } = await setup({ perUserAndAddress: { maxFailures: 5 } });
    for (const name of ["alice", "ALICE", " alice", "Alice ", "ａｌｉｃｅ"])
      await expect(guard.login(source, name, "wrong", "192.0.2.8")).rejects.toMatchObject({ code: "login_failed" });
    const before = checks();
    for (const name of ["alice", "ＡＬＩＣＥ", "ａlice", "  aLiCe  "])
      await expect(guard.login(source, name, "right", "192.0.2.8")).rejects.toBeInstanceOf(TooManyAttempts);
    expect(checks()).toBe(before);
  });

  it("locks only the attacker's pair: the right password logs in from another address", async () => {
    const { source, guard } = await setup();
    for (let i = 0; i < 12; i++)
      await guard.login(source, "alice", `guess-${i}`, "203.0.113.66").catch(() => undefined);
    await expect(guard.login(source, "alice", "right", "203.0.113.66")).rejects.toMatchObject({
      code: "login_locked",
      status: 429,
    });
    await expect(guard.login(source, "alice", "right", "198.51.100.10")).resolves.toMatchObject({ username: "alice" });
    // The attacker's pair stays refused after alice's success.
    await expect(guard.login(source, "alice", "right", "203.0.113.66")).rejects.toBeInstanceOf(TooManyAttempts);
  });

  it("50 failures from one address lock nobody else out, not even people behind that address", async () => {
    const { source, guard } = await setup();
    for (let i = 0; i < 50; i++)
      await expect(guard.login(source, `user${i}`, "x", "198.51.100.1")).rejects.toMatchObject({
        code: "login_failed",
      });
    await expect(guard.login(source, "alice", "right", "198.51.100.1")).resolves.toMatchObject({ username: "alice" });
    await expect(guard.login(source, "bob", "right", "198.51.100.1")).resolves.toMatchObject({ username: "bob" });
  }, 30_000);

  it("a success gives its reservation back: logging in often from one address never locks", async () => {
    const { source, guard } = await setup({ perUserAndAddress: { maxFailures: 2 } });
    for (let i = 0; i < 10; i++) await guard.login(source, "alice", "right", "192.0.2.9");
    await guard.login(source, "alice", "wrong", "192.0.2.9").catch(() => undefined);
    await expect(guard.login(source, "alice", "right", "192.0.2.9")).resolves.toMatchObject({ username: "alice" });
  });

  it("counts IPv6 clients by their /64, so fresh addresses in one network share a pair", async () => {
    const { source, guard } = await setup({ perUserAndAddress: { maxFailures: 3 } });
    for (let i = 1; i <= 3; i++) await guard.login(source, "alice", "wrong", `2001:db8:5:6::${i}`).catch(() => 0);
    await expect(guard.login(source, "alice", "right", "2001:db8:5:6::99")).rejects.toBeInstanceOf(TooManyAttempts);
    await expect(guard.login(source, "alice", "right", "2001:db8:5:7::1")).resolves.toMatchObject({
      username: "alice",
    });
  });
});

describe("LoginGuard: delays per username and per address", () => {
  it("past the free failures of a username, paces attempts from every address with a doubling Retry-After", async () => {
    let now = 1_000_000;
    const { source, guard } = await setup(
      { perUser: { freeFailures: 3, baseDelaySeconds: 2, maxDelaySeconds: 16 } },
      { now: () => now },
    );
    for (let i = 0; i < 3; i++) await guard.login(source, "alice", "wrong", `10.9.0.${i}`).catch(() => 0);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      // One attempt passes (and fails), the next at once is refused with the wait until the next may pass.
      await expect(guard.login(source, "alice", "wrong", `10.9.1.${i}`)).rejects.toMatchObject({
        code: "login_failed",
      });
      const refused = await refusal(guard.login(source, "alice", "right", `10.9.2.${i}`));
      expect(refused).toBeInstanceOf(TooManyAttempts);
      waits.push((refused as TooManyAttempts).retryAfterSeconds);
      now += (refused as TooManyAttempts).retryAfterSeconds * 1000 + 1;
    }
    expect(waits).toEqual([4, 8, 16, 16, 16]);
    // Never a wall: once the wait is over, the right password logs in.
    await expect(guard.login(source, "alice", "right", "10.9.3.1")).resolves.toMatchObject({ username: "alice" });
  });

  it("past the free failures of an address, paces that address but not others", async () => {
    let now = 5_000_000;
    const { source, guard } = await setup({ perAddress: { freeFailures: 4, maxDelaySeconds: 8 } }, { now: () => now });
    for (let i = 0; i < 5; i++) await guard.login(source, `spray${i}`, "x", "198.51.100.2").catch(() => 0);
    await expect(guard.login(source, "alice", "right", "198.51.100.2")).rejects.toBeInstanceOf(TooManyAttempts);
    await expect(guard.login(source, "alice", "right", "198.51.100.3")).resolves.toMatchObject({ username: "alice" });
    now += 9_000;
    await expect(guard.login(source, "alice", "right", "198.51.100.2")).resolves.toMatchObject({ username: "alice" });
  });
});

describe("LoginGuard: the lock follows the person", () => {
  it("once a name led to a person, another name of the same person shares the limits", async () => {
    const alice: Identity = {
      id: "corp:uuid-alice",
      source: "corp",
      username: "alice",
      groups: [],
      groupDns: [],
      sshKeys: [],
      attributes: {},
    };
    // The directory accepts the uid and the mail address of one entry (as AD accepts sAMAccountName and UPN).
    const names = new Set(["alice", "alice@example.org"]);
    const source: PasswordSource = {
      id: "corp",
      type: "ldap",
      login: async (u, p) => (names.has(foldUsername(u)) && p === "right" ? alice : null),
      ping: async () => {},
      close: async () => {},
    };
    const store = new MemoryStore();
    const limits = LockoutConfigSchema.parse({ perUserAndAddress: { maxFailures: 3 } });
    const guard = new LoginGuard({ store, audit: async () => {}, limits });
    await guard.login(source, "alice", "right", "10.1.0.1");
    await guard.login(source, "alice@example.org", "right", "10.1.0.1");
    for (const name of ["alice", "ALICE@example.org", "alice"])
      await guard.login(source, name, "wrong", "10.1.0.2").catch(() => 0);
    await expect(guard.login(source, "Alice@Example.org", "right", "10.1.0.2")).rejects.toBeInstanceOf(TooManyAttempts);
    // A second process (same store, nothing remembered in memory) reads the link from the store.
    const other = new LoginGuard({ store, audit: async () => {}, limits });
    await expect(other.login(source, "alice", "right", "10.1.0.2")).rejects.toBeInstanceOf(TooManyAttempts);
  });
});

describe("LoginGuard: unlock, audit and metrics", () => {
  it("an administrator unlock clears the person's pairs and delays, audited and counted", async () => {
    let now = 9_000_000;
    const { source, guard, events } = await setup(
      {
        perUserAndAddress: { maxFailures: 2 },
        perUser: { freeFailures: 3, maxDelaySeconds: 60, baseDelaySeconds: 30 },
      },
      { now: () => now },
    );
    const registry = new Registry();
    guard.metrics.register(registry);
    for (const ip of ["10.2.0.1", "10.2.0.1", "10.2.0.2", "10.2.0.2"])
      await guard.login(source, "ALICE", "wrong", ip).catch(() => 0);
    await expect(guard.login(source, "alice", "right", "10.2.0.1")).rejects.toBeInstanceOf(TooManyAttempts);
    await expect(guard.login(source, "alice", "right", "10.2.0.3")).rejects.toBeInstanceOf(TooManyAttempts);
    now += 1;
    const result = await guard.unlock(" Alice", { sources: [source], actor: "ops-admin", via: "cli" });
    expect(result.known).toBe(true);
    expect(result.cleared).toBeGreaterThanOrEqual(3);
    await expect(guard.login(source, "alice", "right", "10.2.0.1")).resolves.toMatchObject({ username: "alice" });
    await expect(guard.login(source, "alice", "right", "10.2.0.2")).resolves.toMatchObject({ username: "alice" });
    expect(events.filter((e) => e.type === "login.locked").map((e) => e.scope)).toEqual(
      expect.arrayContaining(["user_address", "user"]),
    );
    expect(events.find((e) => e.type === "login.unlocked")).toMatchObject({
      actor: "ops-admin",
      person: " Alice",
      via: "cli",
    });
    const text = await registry.metrics();
    expect(text).toMatch(/archway_login_lockouts_total\{kind="password",scope="user_address"\} 2/);
    expect(text).toMatch(/archway_login_refused_total\{kind="password",scope="user_address"\} 1/);
    expect(text).toMatch(/archway_login_unlocks_total\{via="cli"\} 1/);
  });

  it("reports an unknown person with nothing to clear", async () => {
    const { source, guard } = await setup();
    const result = await guard.unlock("nobody-at-all", { sources: [source], actor: "ops", via: "api" });
    expect(result).toMatchObject({ known: false, cleared: 0 });
  });
});

describe("LoginGuard: concurrent right passwords", () => {
  it("lets 16 simultaneous right passwords of one person from one address through (parallel CLI commands)", async () => {
    const { source, guard, checks } = await setup();
    const results = await Promise.all(
      Array.from({ length: 16 }, () => guard.login(source, "alice", "right", "10.0.9.1").then(() => "ok", refusal)),
    );
    expect(results).toEqual(Array.from({ length: 16 }, () => "ok"));
    expect(checks()).toBe(16);
  });

  it("still checks at most 5 of 30 simultaneous wrong passwords, and refuses the rest after waiting for them", async () => {
    const { source, guard, checks } = await setup();
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        guard.login(source, "alice", "wrong", "10.0.9.2").then(
          () => 201,
          (e: ArchwayError) => e.status,
        ),
      ),
    );
    expect(checks()).toBe(5);
    expect(results.filter((s) => s === 401)).toHaveLength(5);
    expect(results.filter((s) => s === 429)).toHaveLength(25);
  });
});
