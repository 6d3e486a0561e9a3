import { createHmac } from "node:crypto";
import { base64url, calculateJwkThumbprint, generateKeyPair, SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

const HOUR = 3_600_000;
const ISSUER = "https://archway.test";

function setup(opts: { algorithm?: "ES256" | "EdDSA"; offloadSigning?: () => boolean } = {}) {
  let now = Date.parse("2026-11-24T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = new MemoryStore({ now: clock.now });
  const keys = new KeyRing({
    store,
    algorithm: opts.algorithm ?? "ES256",
    rotateAfterMs: 24 * HOUR,
    overlapMs: 2 * HOUR,
    now: clock.now,
    cacheMs: 0,
  });
  const events: { type: string }[] = [];
  const tokens = new TokenService({
    store,
    keys,
    issuer: ISSUER,
    now: clock.now,
    ...(opts.offloadSigning ? { offloadSigning: opts.offloadSigning } : {}),
    audit: async (e) => {
      events.push(e);
    },
  });
  return { clock, store, keys, tokens, events };
}

function unsigned(header: object, payload: object): string {
  const enc = (o: object) => base64url.encode(JSON.stringify(o));
  return `${enc(header)}.${enc(payload)}.`;
}

describe("Archway tokens", () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  it("issues an ES256 token whose kid is the RFC 7638 thumbprint of a key in the JWKS", async () => {
    const issued = await t.tokens.issue({ subject: "demo:alice", audience: "archway:facade", ttlSeconds: 900 });
    const [headerB64] = issued.token.split(".");
    const header = JSON.parse(Buffer.from(headerB64!, "base64url").toString());
    expect(header).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    const jwks = await t.keys.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]!.d).toBeUndefined();
    const { kid: _kid, alg: _alg, use: _use, ...pub } = jwks.keys[0]!;
    expect(header.kid).toBe(await calculateJwkThumbprint(pub, "sha256"));
    const claims = await t.tokens.verify(issued.token, { audience: "archway:facade" });
    expect(claims).toMatchObject({ sub: "demo:alice", iss: ISSUER, aud: "archway:facade", jti: issued.jti });
    expect(t.events.map((e) => e.type)).toEqual(["token.issued"]);
  });

  it("signs with EdDSA when configured", async () => {
    const e = setup({ algorithm: "EdDSA" });
    const issued = await e.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 60 });
    expect(JSON.parse(Buffer.from(issued.token.split(".")[0]!, "base64url").toString()).alg).toBe("EdDSA");
    await expect(e.tokens.verify(issued.token, { audience: "a" })).resolves.toMatchObject({ sub: "s" });
  });

  it("signs on the thread pool when asked to, with either algorithm, and the tokens verify the same", async () => {
    for (const algorithm of ["ES256", "EdDSA"] as const) {
      let asked = 0;
      const e = setup({ algorithm, offloadSigning: () => ++asked > 0 });
      const issued = await Promise.all(
        [1, 2, 3].map((n) => e.tokens.issue({ subject: `s${n}`, audience: "a", ttlSeconds: 60 })),
      );
      expect(asked).toBe(3);
      for (const [n, token] of issued.entries()) {
        expect(JSON.parse(Buffer.from(token.token.split(".")[0]!, "base64url").toString()).alg).toBe(algorithm);
        await expect(e.tokens.verify(token.token, { audience: "a" })).resolves.toMatchObject({ sub: `s${n + 1}` });
      }
    }
  });

  it("refuses a token minted for another audience", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "cloud-1", ttlSeconds: 60 });
    await expect(t.tokens.verify(issued.token, { audience: "cloud-2" })).rejects.toMatchObject({
      code: "token_invalid",
      status: 401,
    });
    expect(t.events.at(-1)).toMatchObject({ type: "token.refused", reason: "token_invalid" });
  });

  it("remembers a verification only for the audience and type it was made for", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "cloud-1", ttlSeconds: 60 });
    await expect(t.tokens.verify(issued.token, { audience: "cloud-1" })).resolves.toMatchObject({ sub: "s" });
    await expect(t.tokens.verify(issued.token, { audience: "cloud-2" })).rejects.toMatchObject({
      code: "token_invalid",
    });
    await expect(t.tokens.verify(issued.token, { audience: "cloud-1", type: "JWT" })).rejects.toMatchObject({
      code: "token_invalid",
    });
    await expect(t.tokens.verify(issued.token, { audience: "cloud-1" })).resolves.toMatchObject({ sub: "s" });
    t.clock.advance(61_000 + 5_000);
    await expect(t.tokens.verify(issued.token, { audience: "cloud-1" })).rejects.toMatchObject({
      code: "token_expired",
    });
  });

  it("refuses an expired token and a token that is not yet valid", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 60 });
    t.clock.advance(66_000);
    await expect(t.tokens.verify(issued.token, { audience: "a" })).rejects.toMatchObject({ code: "token_expired" });
    const future = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    t.clock.advance(-120_000);
    await expect(t.tokens.verify(future.token, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("refuses a revoked token on every later use", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    await t.tokens.revoke({ jti: issued.jti, exp: issued.expiresAt }, "s");
    await expect(t.tokens.verify(issued.token, { audience: "a" })).rejects.toMatchObject({ code: "token_revoked" });
    expect(t.events.map((e) => e.type)).toContain("token.revoked");
  });

  it("refuses alg none", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    const [h, p] = issued.token.split(".");
    const header = JSON.parse(Buffer.from(h!, "base64url").toString());
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const forged = unsigned({ ...header, alg: "none" }, { ...payload, sub: "admin" });
    await expect(t.tokens.verify(forged, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("refuses HS256 signed with the public key as the HMAC secret", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    const [h, p] = issued.token.split(".");
    const header = JSON.parse(Buffer.from(h!, "base64url").toString());
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const jwk = (await t.keys.jwks()).keys[0]!;
    const enc = (o: object) => base64url.encode(JSON.stringify(o));
    const signingInput = `${enc({ ...header, alg: "HS256" })}.${enc({ ...payload, sub: "admin" })}`;
    for (const secret of [JSON.stringify(jwk), `${jwk.x}${jwk.y}`]) {
      const sig = createHmac("sha256", secret).update(signingInput).digest("base64url");
      await expect(t.tokens.verify(`${signingInput}.${sig}`, { audience: "a" })).rejects.toMatchObject({
        code: "token_invalid",
      });
    }
  });

  it("refuses a token signed by a foreign key that claims Archway's kid", async () => {
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    const kid = JSON.parse(Buffer.from(issued.token.split(".")[0]!, "base64url").toString()).kid;
    const { privateKey } = await generateKeyPair("ES256");
    const forged = await new SignJWT({ jti: "x" })
      .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setSubject("admin")
      .setAudience("a")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    await expect(t.tokens.verify(forged, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
    await expect(t.tokens.verify("not-a-jwt", { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("rotates keys: old tokens verify during the overlap window, not after", async () => {
    const before = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 30 * 3600 });
    t.clock.advance(25 * HOUR); // past rotateAfter: the next use makes a new key
    const after = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 600 });
    const kidOf = (tok: string) => JSON.parse(Buffer.from(tok.split(".")[0]!, "base64url").toString()).kid;
    expect(kidOf(after.token)).not.toBe(kidOf(before.token));
    expect((await t.keys.jwks()).keys).toHaveLength(2);
    await expect(t.tokens.verify(before.token, { audience: "a" })).resolves.toBeTruthy();
    t.clock.advance(3 * HOUR); // overlap (2 h) over
    expect((await t.keys.jwks()).keys).toHaveLength(1);
    await expect(t.tokens.verify(before.token, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
    await expect(t.tokens.verify(after.token, { audience: "a" })).rejects.toMatchObject({ code: "token_expired" });
  });

  it("shares one key ring between processes through the store", async () => {
    const other = new KeyRing({
      store: t.store,
      algorithm: "ES256",
      rotateAfterMs: 24 * HOUR,
      overlapMs: 2 * HOUR,
      now: t.clock.now,
      cacheMs: 0,
    });
    const otherTokens = new TokenService({ store: t.store, keys: other, issuer: ISSUER, now: t.clock.now });
    const [a, b] = await Promise.all([t.keys.signingKey(), other.signingKey()]);
    expect(a.kid).toBe(b.kid);
    const issued = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 60 });
    await expect(otherTokens.verify(issued.token, { audience: "a" })).resolves.toMatchObject({ sub: "s" });
  });

  it("exports no private material in the JWKS", async () => {
    await t.keys.signingKey();
    for (const k of (await t.keys.jwks()).keys)
      expect(Object.keys(k).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
  });
});
