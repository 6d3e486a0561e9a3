import { describe, expect, it } from "vitest";
import type { AuditEvent } from "../../../src/audit/index.js";
import { CLIENT_AUTH_LIMITS, type ClientAuthLimits, IdpClientSchema } from "../../../src/config/index.js";
import { hashPassword } from "../../../src/identity/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { OAuthClients, WorkGate } from "../../../src/tokens/oauth/index.js";

// Replays of issue 22 item 5: 200 wrong client secrets took 1.5 s and all were checked; 100 parallel wrong secrets
// against a hashed-secret client queued scrypt work without bound.
const ATTACKER = "192.0.2.66";
const SERVICE = "198.51.100.7";
const HASH = hashPassword("hashed-secret", { N: 1024 });

async function setup(limits: Partial<ClientAuthLimits> = {}) {
  let now = Date.parse("2026-12-05T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const events: AuditEvent[] = [];
  const clients = new OAuthClients(
    [
      IdpClientSchema.parse({ id: "svc", secret: "plain-secret", grants: ["client_credentials"] }),
      IdpClientSchema.parse({ id: "hashed", secretHash: await HASH, grants: ["client_credentials"] }),
      IdpClientSchema.parse({ id: "other", secret: "other-secret", grants: ["client_credentials"] }),
      IdpClientSchema.parse({ id: "spa", public: true, redirectUris: ["https://spa.test/cb"] }),
    ],
    {
      store,
      audit: async (e) => {
        events.push(e);
      },
      limits: { ...CLIENT_AUTH_LIMITS, ...limits },
    },
  );
  const count = (type: string) => events.filter((e) => e.type === type).length;
  return { clock, clients, events, count };
}

describe("client secrets: failures limited per client and address", () => {
  it("200 wrong secrets in a row: 10 are checked, the rest refused with 429, even the right one after them", async () => {
    const t = await setup();
    const kinds: string[] = [];
    for (let i = 0; i < 200; i++) kinds.push((await t.clients.authenticate("svc", `guess-${i}`, ATTACKER)).kind);
    expect(kinds.filter((k) => k === "refused")).toHaveLength(10);
    expect(kinds.slice(10).every((k) => k === "limited")).toBe(true);
    expect(await t.clients.authenticate("svc", "plain-secret", ATTACKER)).toMatchObject({
      kind: "limited",
      by: "client-address",
      retryAfterSeconds: 900,
    });
    expect(t.count("oauth.client_auth_failed")).toBe(10);
    expect(t.count("oauth.client_auth_limited")).toBe(191);
    expect(t.events).toContainEqual(
      expect.objectContaining({ type: "oauth.client_auth_limited", actor: "svc", clientIp: ATTACKER }),
    );
    // The real client at its own address is not affected, nor another client from the attacker's address.
    expect((await t.clients.authenticate("svc", "plain-secret", SERVICE)).kind).toBe("ok");
    expect((await t.clients.authenticate("other", "other-secret", ATTACKER)).kind).toBe("ok");
    // The window ends.
    t.clock.advance(900_000);
    expect((await t.clients.authenticate("svc", "plain-secret", ATTACKER)).kind).toBe("ok");
  });

  it("100 parallel wrong secrets against a hashed secret: at most 10 scrypt checks, the rest refused at once", async () => {
    const t = await setup({ hashQueue: 100 });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => t.clients.authenticate("hashed", `guess-${i}`, ATTACKER)),
    );
    expect(results.filter((r) => r.kind === "refused")).toHaveLength(10);
    expect(results.filter((r) => r.kind === "limited")).toHaveLength(90);
    expect(t.count("oauth.client_auth_failed")).toBe(10);
  });

  it("one address cycling through client ids, known or made up, is stopped by the address limit", async () => {
    const t = await setup({ perAddress: 30 });
    for (let i = 0; i < 15; i++)
      expect((await t.clients.authenticate(`made-up-${i}`, "x", ATTACKER)).kind).toBe("refused");
    for (let i = 0; i < 10; i++) await t.clients.authenticate("svc", `guess-${i}`, ATTACKER);
    for (let i = 0; i < 5; i++) expect((await t.clients.authenticate("other", "x", ATTACKER)).kind).toBe("refused");
    expect(await t.clients.authenticate("other", "other-secret", ATTACKER)).toMatchObject({
      kind: "limited",
      by: "address",
    });
    expect((await t.clients.authenticate("other", "other-secret", SERVICE)).kind).toBe("ok");
  });

  it("past the client-wide limit, addresses that failed are refused while a fresh address may still sign in", async () => {
    const t = await setup({ perClient: 20 });
    for (let a = 0; a < 4; a++)
      for (let i = 0; i < 5; i++) await t.clients.authenticate("svc", `guess-${i}`, `203.0.113.${a}`);
    expect(await t.clients.authenticate("svc", "plain-secret", "203.0.113.0")).toMatchObject({
      kind: "limited",
      by: "client",
    });
    // A new address: one guess, then it is refused as well.
    expect((await t.clients.authenticate("svc", "nope", "203.0.113.9")).kind).toBe("refused");
    expect((await t.clients.authenticate("svc", "nope", "203.0.113.9")).kind).toBe("limited");
    expect((await t.clients.authenticate("svc", "plain-secret", SERVICE)).kind).toBe("ok");
  });

  it("a right secret gives its reservation back; public clients are not counted", async () => {
    const t = await setup({ perClientAddress: 2 });
    for (let i = 0; i < 20; i++) expect((await t.clients.authenticate("svc", "plain-secret", SERVICE)).kind).toBe("ok");
    for (let i = 0; i < 20; i++) expect((await t.clients.authenticate("spa", undefined, SERVICE)).kind).toBe("ok");
    expect((await t.clients.authenticate("spa", "a secret", SERVICE)).kind).toBe("refused");
    expect((await t.clients.authenticate("svc", undefined, SERVICE)).kind).toBe("refused");
    expect((await t.clients.authenticate("svc", "wrong", SERVICE)).kind).toBe("refused");
    expect((await t.clients.authenticate("svc", "plain-secret", SERVICE)).kind).toBe("ok");
  });
});

describe("client secrets: bounded scrypt work", () => {
  it("past the hashing slots and their queue, answers busy at once and counts no failure", async () => {
    const t = await setup({ hashConcurrency: 1, hashQueue: 2, perClientAddress: 1000, perAddress: 1000 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.clients.authenticate("hashed", `guess-${i}`, ATTACKER)),
    );
    expect(results.filter((r) => r.kind === "refused")).toHaveLength(3);
    expect(results.filter((r) => r.kind === "busy")).toHaveLength(17);
    expect(results.find((r) => r.kind === "busy")).toMatchObject({ retryAfterSeconds: 1 });
    expect(t.count("oauth.client_auth_failed")).toBe(3);
  });

  it("a hashed secret that passed once is remembered: no scrypt slot needed while the gate is full", async () => {
    const t = await setup({ hashConcurrency: 1, hashQueue: 0, perClientAddress: 1000, perAddress: 1000 });
    expect((await t.clients.authenticate("hashed", "hashed-secret", SERVICE)).kind).toBe("ok");
    const flood = Array.from({ length: 5 }, (_, i) => t.clients.authenticate("hashed", `guess-${i}`, ATTACKER));
    expect((await t.clients.authenticate("hashed", "hashed-secret", SERVICE)).kind).toBe("ok");
    expect((await Promise.all(flood)).map((r) => r.kind)).toEqual(["refused", "busy", "busy", "busy", "busy"]);
  });
});

describe("WorkGate", () => {
  it("runs at most `concurrency` jobs, queues up to `queue`, refuses the rest, and hands slots over in order", async () => {
    const gate = new WorkGate(2, 1);
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const job = (n: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      order.push(n);
      running--;
      return n;
    };
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => gate.run(job(n))));
    expect(results).toEqual([1, 2, 3, undefined, undefined]);
    expect(peak).toBe(2);
    expect(order.at(-1)).toBe(3);
    expect(await gate.run(job(6))).toBe(6);
  });
});
