import { describe, expect, it } from "vitest";
import type { StaticUser } from "../../../src/config/index.js";
import type { AccountListSource, UpstreamGrantSource } from "../../../src/identity/index.js";
import { StaticSource } from "../../../src/identity/index.js";
import { DepartureDetector, UpstreamGrants } from "../../../src/offboard/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { Sealer, type Session } from "../../../src/tokens/index.js";

const live = new Set<string>();
const sessions = { peek: async (sid: string) => (live.has(sid) ? ({ sid } as Session) : null) };

/** An upstream whose answer per refresh token the test sets: a new token, a refusal (null) or an error. */
function upstream(
  answer: (token: string) => string | null | Error,
  refreshFailure: UpstreamGrantSource["refreshFailure"] = "end-sessions",
) {
  const seen: string[] = [];
  const source: UpstreamGrantSource = {
    id: "sso",
    type: "oidc",
    refreshFailure,
    ping: async () => {},
    close: async () => {},
    async renew(token) {
      seen.push(token);
      const a = answer(token);
      if (a instanceof Error) throw a;
      return a === null ? null : { refreshToken: a };
    },
  };
  return { source, seen };
}

function grants() {
  const store = new MemoryStore();
  return { store, grants: new UpstreamGrants({ store, sealer: new Sealer({ current: "k".repeat(32) }), sessions }) };
}

const keep = (g: UpstreamGrants, sid: string, over: Record<string, unknown> = {}) =>
  g.keep(sid, {
    source: "sso",
    personId: "sso:alice",
    username: "alice",
    refreshToken: `rt-${sid}`,
    upstreamSid: `up-${sid}`,
    absoluteEnd: Date.now() + 3600_000,
    ...over,
  });

describe("kept upstream grants", () => {
  it("keeps the refresh token sealed and finds sessions by the upstream's session id", async () => {
    const { store, grants: g } = grants();
    await keep(g, "s1");
    const raw = (await store.get("sso:grant:s1")) ?? "";
    expect(raw).not.toContain("rt-s1");
    expect(await g.sessionsOf("sso", "up-s1")).toEqual(["s1"]);
    expect(await g.sessionsOf("other", "up-s1")).toEqual([]);
    await g.forget("s1");
    expect(await g.sessionsOf("sso", "up-s1")).toEqual([]);
    expect(await g.record("s1")).toBeNull();
  });

  it("renews live grants (keeping the rotated token), reports refusals once, and changes nothing on errors", async () => {
    const { grants: g } = grants();
    for (const sid of ["ok", "gone", "down", "dead"]) await keep(g, sid);
    for (const sid of ["ok", "gone", "down"]) live.add(sid);
    const answers: Record<string, string | null | Error> = {
      "rt-ok": "rt-ok-2",
      "rt-gone": null,
      "rt-down": new Error("ECONNREFUSED"),
    };
    const up = upstream((t) => (t in answers ? (answers[t] as string | null | Error) : new Error(`unexpected ${t}`)));
    const errors: string[] = [];
    const first = await g.check([up.source], { onError: (_s, m) => errors.push(m) });
    expect(first.renewed).toBe(1);
    expect(first.failed).toBe(1);
    expect(first.refused.map((r) => r.sid)).toEqual(["gone"]);
    expect(errors.join()).toMatch(/ECONNREFUSED/);
    // The session that ended was forgotten without asking the upstream.
    expect(up.seen.sort()).toEqual(["rt-down", "rt-gone", "rt-ok"]);
    expect(await g.record("dead")).toBeNull();

    answers["rt-ok-2"] = "rt-ok-2";
    const second = await g.check([up.source]);
    expect(up.seen).toContain("rt-ok-2"); // the rotated token was kept and spent next time
    expect(second.refused).toEqual([]); // a refused grant is not reported twice
    expect(await g.record("down")).not.toBeNull(); // an error forgets nothing
  });

  it("asks nothing of sources whose refreshFailure is off", async () => {
    const { grants: g } = grants();
    await keep(g, "x");
    live.add("x");
    const up = upstream(() => null, "off");
    expect((await g.check([up.source])).refused).toEqual([]);
    expect(up.seen).toEqual([]);
  });
});

describe("static sources on reload", () => {
  const user = (username: string, disabled = false): StaticUser => ({
    username,
    passwordHash: "scrypt$x",
    groups: [],
    sshKeys: [],
    attributes: {},
    disabled,
  });
  const config = (users: StaticUser[]) => ({ id: "demo", type: "static" as const, users });

  it("takes the new users and tells who was removed or newly disabled", async () => {
    const s = new StaticSource(config([user("alice"), user("bob"), user("carol")]), { generation: 1 });
    expect(s.replace(config([user("alice", true), user("carol")]), { generation: 2 })).toEqual({
      removed: ["bob"],
      disabled: ["alice"],
    });
    expect(await s.lookup("bob")).toBeNull();
    expect(s.generation).toBe(2);
  });

  it("a process on an older configuration file skips its looks (it would undo what a reloaded one found)", async () => {
    const store = new MemoryStore();
    const detector = (s: AccountListSource) =>
      new DepartureDetector({ sources: [s], store, audit: async () => {}, maxDepartures: 10 });
    const old = new StaticSource(config([user("alice", true)]), { generation: 1 });
    const fresh = new StaticSource(config([user("alice", true)]), { generation: 2 });
    await (await detector(fresh).look()).commit();
    const errors: string[] = [];
    const stale = new DepartureDetector({
      sources: [old],
      store,
      audit: async () => {},
      maxDepartures: 10,
      onError: (_s, m) => errors.push(m),
    });
    expect((await stale.look()).changes).toEqual([]);
    expect(errors.join()).toMatch(/older than the one another process already used/);
  });
});
