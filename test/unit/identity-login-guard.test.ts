import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../src/audit/index.js";
import { ArchwayError } from "../../src/errors.js";
import { hashPassword, LoginGuard, type PasswordSource, StaticSource } from "../../src/identity/index.js";
import { MemoryStore } from "../../src/store/index.js";

async function setup() {
  const events: AuditEvent[] = [];
  const source = new StaticSource({
    id: "demo",
    type: "static",
    users: [
      {
        username: "alice",
        passwordHash: await hashPassword("right", { N: 1024 }),
        groups: [],
        sshKeys: [],
        attributes: {},
        disabled: false,
      },
    ],
  });
  const guard = new LoginGuard({
    store: new MemoryStore(),
    audit: async (e) => {
      events.push(e);
    },
    limits: { perUsername: { max: 3, windowMs: 60_000 }, perClient: { max: 5, windowMs: 60_000 }, lockoutMs: 60_000 },
  });
  return { source, guard, events };
}

describe("LoginGuard", () => {
  it("gives an unknown user and a wrong password the same answer", async () => {
    const { source, guard } = await setup();
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => {
          throw new Error("expected a refusal");
        },
        (e: ArchwayError) => e,
      );
    const unknown = await refusal(guard.login(source, "nobody", "right", "10.0.0.1"));
    const wrong = await refusal(guard.login(source, "alice", "wrong", "10.0.0.2"));
    expect(unknown).toBeInstanceOf(ArchwayError);
    expect([unknown.code, unknown.status, unknown.message]).toEqual([wrong.code, wrong.status, wrong.message]);
    expect(wrong).toMatchObject({ code: "login_failed", status: 401, message: "invalid username or password" });
  });

  it("locks a username after repeated failures, even with the right password, from any address", async () => {
    const { source, guard } = await setup();
    for (let i = 0; i < 3; i++)
      await expect(guard.login(source, "alice", "wrong", `10.0.1.${i}`)).rejects.toMatchObject({
        code: "login_failed",
      });
    await expect(guard.login(source, "Alice", "right", "10.0.9.9")).rejects.toMatchObject({
      code: "login_locked",
      status: 429,
    });
  });

  it("locks a client address that tries many usernames", async () => {
    const { source, guard } = await setup();
    for (let i = 0; i < 5; i++)
      await expect(guard.login(source, `user${i}`, "x", "10.0.2.1")).rejects.toMatchObject({ code: "login_failed" });
    await expect(guard.login(source, "alice", "right", "10.0.2.1")).rejects.toMatchObject({ code: "login_locked" });
    await expect(guard.login(source, "alice", "right", "10.0.2.2")).resolves.toMatchObject({ username: "alice" });
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

  it("passes directory outages through as 503 and audits them", async () => {
    const { guard, events } = await setup();
    const down: PasswordSource = {
      id: "corp",
      type: "ldap",
      login: async () => {
        throw new ArchwayError(
          "directory_unavailable",
          "identity source corp: directory unavailable (ECONNREFUSED)",
          503,
        );
      },
      ping: async () => {},
      close: async () => {},
    };
    await expect(guard.login(down, "alice", "x", "10.0.4.1")).rejects.toMatchObject({
      code: "directory_unavailable",
      status: 503,
    });
    expect(events.at(-1)).toMatchObject({ type: "login.error", reason: "directory_unavailable" });
  });
});
