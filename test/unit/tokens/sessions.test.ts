import { describe, expect, it } from "vitest";
import { IdentitySchema } from "../../../src/identity/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { IdentitySessions, KeyRing, TokenService } from "../../../src/tokens/index.js";

const HOUR = 3_600_000;
const ISSUER = "https://archway.test";

function setup() {
  let now = Date.parse("2026-11-24T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 24 * HOUR, overlapMs: HOUR, now: clock.now });
  const ended: string[] = [];
  const sessions = new IdentitySessions({ store, absoluteMs: 12 * HOUR, idleMs: 2 * HOUR, now: clock.now });
  sessions.onEnd(async (s, reason) => {
    ended.push(`${s.sid}:${reason}`);
  });
  const tokens = new TokenService({ store, keys, issuer: ISSUER, now: clock.now, sessions });
  const person = (username: string) => IdentitySchema.parse({ id: `demo:${username}`, source: "demo", username });
  return { clock, store, sessions, tokens, person, ended };
}

describe("login sessions", () => {
  it("lists a person's sessions and ends them all with everything hanging off them", async () => {
    const t = setup();
    const a = await t.sessions.create(t.person("alice"));
    const b = await t.sessions.create(t.person("alice"), { kind: "offline", absoluteMs: 30 * 24 * HOUR });
    const other = await t.sessions.create(t.person("bob"));
    expect((await t.sessions.listFor("demo:alice")).map((s) => s.sid).sort()).toEqual([a.sid, b.sid].sort());
    const token = await t.tokens.issue({
      subject: "demo:alice",
      audience: "x",
      ttlSeconds: 900,
      claims: { sid: a.sid },
    });
    const bobs = await t.tokens.issue({
      subject: "demo:bob",
      audience: "x",
      ttlSeconds: 900,
      claims: { sid: other.sid },
    });
    await t.tokens.verify(token.token, { audience: "x" });

    expect(await t.sessions.endPerson("demo:alice", "offboarded")).toBe(2);
    expect(await t.sessions.listFor("demo:alice")).toEqual([]);
    expect(await t.sessions.get(a.sid)).toBeNull();
    expect(await t.sessions.alive(b.sid)).toBeNull();
    await expect(t.tokens.verify(token.token, { audience: "x" })).rejects.toMatchObject({ code: "token_revoked" });
    await t.tokens.verify(bobs.token, { audience: "x" });
    expect(t.ended).toEqual(expect.arrayContaining([`${a.sid}:offboarded`, `${b.sid}:offboarded`]));
    expect(await t.sessions.endPerson("demo:alice", "again")).toBe(0);
  });

  it("ends a session at its absolute end even while in use, and after the idle timeout", async () => {
    const t = setup();
    const s = await t.sessions.create(t.person("alice"));
    for (let i = 0; i < 13; i++) {
      t.clock.advance(HOUR - 1);
      const alive = await t.sessions.alive(s.sid);
      if (i < 12) expect(alive?.sid).toBe(s.sid);
      else expect(alive).toBeNull();
    }
    const idle = await t.sessions.create(t.person("alice"));
    t.clock.advance(2 * HOUR + 1000);
    expect(await t.sessions.alive(idle.sid)).toBeNull();
  });

  it("never issues a token of a session beyond the session's end", async () => {
    const t = setup();
    const s = await t.sessions.create(t.person("alice"), { absoluteMs: 600_000 });
    const issued = await t.tokens.issue({
      subject: "demo:alice",
      audience: "x",
      ttlSeconds: 900,
      notAfter: s.absoluteEnd / 1000,
      claims: { sid: s.sid },
    });
    expect(issued.expiresAt).toBe(Math.floor(s.absoluteEnd / 1000));
    t.clock.advance(601_000);
    await expect(
      t.tokens.issue({ subject: "demo:alice", audience: "x", ttlSeconds: 900, notAfter: s.absoluteEnd / 1000 }),
    ).rejects.toMatchObject({ code: "token_expired" });
  });

  it("revokes a token chain, and a single token, without ending the session", async () => {
    const t = setup();
    const s = await t.sessions.create(t.person("alice"));
    const claims = { sid: s.sid };
    const first = await t.tokens.issue({ subject: "demo:alice", audience: "x", ttlSeconds: 900, claims });
    const child = await t.tokens.issue({
      subject: "demo:alice",
      audience: "x",
      ttlSeconds: 900,
      notAfter: first.expiresAt,
      claims: { ...claims, ach: first.jti },
    });
    const grandchild = await t.tokens.issue({
      subject: "demo:alice",
      audience: "x",
      ttlSeconds: 900,
      claims: { ...claims, ach: first.jti },
    });
    const otherChain = await t.tokens.issue({ subject: "demo:alice", audience: "x", ttlSeconds: 900, claims });
    const single = await t.tokens.issue({ subject: "demo:alice", audience: "x", ttlSeconds: 900, claims });
    await t.tokens.verify(child.token, { audience: "x" });

    await t.tokens.revokeChain(await t.tokens.verify(first.token, { audience: "x" }));
    for (const revoked of [first, child, grandchild])
      await expect(t.tokens.verify(revoked.token, { audience: "x" })).rejects.toMatchObject({ code: "token_revoked" });
    await t.tokens.verify(otherChain.token, { audience: "x" });

    await t.tokens.revoke({ jti: single.jti, exp: single.expiresAt, sid: s.sid });
    await expect(t.tokens.verify(single.token, { audience: "x" })).rejects.toMatchObject({ code: "token_revoked" });
    await t.tokens.verify(otherChain.token, { audience: "x" });
    expect(await t.sessions.alive(s.sid)).not.toBeNull();
  });
});
