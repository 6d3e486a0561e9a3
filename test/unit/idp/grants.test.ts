import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/memory.js";
import { AuthorizationCodes, DeviceCodes, type Grant, RefreshTokens } from "../../../src/tokens/index.js";
import { RandomTokens } from "../../../src/tokens/oauth/grants.js";

const grant: Grant = {
  clientId: "web",
  identity: {
    id: "demo:alice",
    source: "demo",
    username: "alice",
    groups: [],
    groupDns: [],
    sshKeys: [],
    attributes: {},
  },
  scope: ["openid"],
  authTime: 1_700_000_000,
};

describe("authorization codes", () => {
  it("redeem once; a second redemption is a replay that knows what the first produced", async () => {
    const codes = new AuthorizationCodes(new MemoryStore(), 60_000);
    const code = await codes.issue({ ...grant, redirectUri: "http://127.0.0.1/cb" });
    const first = await codes.redeem(code);
    expect(first.kind).toBe("ok");
    if (first.kind === "ok") await codes.recordIssued(first.digest, { jti: "j1", expiresAt: 1, family: "f1" });
    expect(await codes.redeem(code)).toEqual({ kind: "replayed", issued: { jti: "j1", expiresAt: 1, family: "f1" } });
    expect(await codes.redeem("not-a-code")).toEqual({ kind: "unknown" });
  });

  it("two concurrent redemptions: exactly one wins", async () => {
    const codes = new AuthorizationCodes(new MemoryStore(), 60_000);
    const code = await codes.issue({ ...grant, redirectUri: "http://127.0.0.1/cb" });
    const outcomes = await Promise.all([codes.redeem(code), codes.redeem(code), codes.redeem(code)]);
    expect(outcomes.filter((o) => o.kind === "ok")).toHaveLength(1);
  });
});

describe("refresh tokens", () => {
  it("rotate; reuse of a spent token revokes the family, including its newest token", async () => {
    const refresh = new RefreshTokens(new MemoryStore(), 3_600_000);
    const { token } = await refresh.issue(grant);
    const next = await refresh.rotate(token, "web");
    expect(next.kind).toBe("ok");
    if (next.kind !== "ok") return;
    expect(await refresh.rotate(token, "web")).toMatchObject({ kind: "reused" });
    expect(await refresh.rotate(next.token, "web")).toMatchObject({ kind: "invalid" });
  });

  it("another client's token and an expired one are invalid", async () => {
    let now = 0;
    const refresh = new RefreshTokens(new MemoryStore(), 1_000, () => now);
    const { token } = await refresh.issue(grant);
    expect(await refresh.rotate(token, "other")).toMatchObject({ kind: "invalid" });
    now = 2_000;
    expect(await refresh.rotate(token, "web")).toMatchObject({ kind: "invalid" });
  });

  it("a long chain of rotations: every token distinct, 32 random bytes each, across pool refills", async () => {
    const refresh = new RefreshTokens(new MemoryStore(), 3_600_000);
    let { token } = await refresh.issue(grant);
    const seen = new Set([token]);
    for (let i = 0; i < 300; i++) {
      const next = await refresh.rotate(token, "web");
      if (next.kind !== "ok") throw new Error(`rotation ${i}: ${next.kind}`);
      token = next.token;
      seen.add(token);
    }
    expect(seen.size).toBe(301);
    const random = new RandomTokens();
    const drawn = Array.from({ length: 300 }, () => random.next());
    expect(new Set(drawn).size).toBe(300);
    for (const t of drawn) expect(Buffer.from(t, "base64url")).toHaveLength(32);
  });
});

describe("device codes", () => {
  it("pending, slow down, approval, then one set of tokens; user codes match however typed", async () => {
    const devices = new DeviceCodes(new MemoryStore(), 600_000, 5_000);
    const started = await devices.start({ clientId: "cli", scope: ["openid"] });
    expect(started.userCode).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(await devices.poll(started.deviceCode, "cli")).toEqual({ kind: "authorization_pending" });
    expect(await devices.poll(started.deviceCode, "cli")).toEqual({ kind: "slow_down" });
    expect(await devices.poll(started.deviceCode, "other")).toEqual({ kind: "invalid_grant" });
    expect(await devices.find(started.userCode.toLowerCase().replace("-", " "))).not.toBeNull();
    expect(await devices.decide(started.userCode, { approve: { ...grant, clientId: "cli" } })).toBe(true);
    expect(await devices.decide(started.userCode, { deny: true })).toBe(false);
    expect(await devices.poll(started.deviceCode, "cli")).toMatchObject({ kind: "approved" });
    expect(await devices.poll(started.deviceCode, "cli")).toEqual({ kind: "invalid_grant" });
  });

  it("denied and expired", async () => {
    let now = 0;
    const devices = new DeviceCodes(new MemoryStore(), 1_000, 1, () => now);
    const a = await devices.start({ clientId: "cli", scope: [] });
    await devices.decide(a.userCode, { deny: true });
    expect(await devices.poll(a.deviceCode, "cli")).toEqual({ kind: "access_denied" });
    const b = await devices.start({ clientId: "cli", scope: [] });
    now = 5_000;
    expect(await devices.poll(b.deviceCode, "cli")).toEqual({ kind: "expired_token" });
  });
});
