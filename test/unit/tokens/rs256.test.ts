import { createHmac, createPublicKey } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { IdentitySchema } from "../../../src/identity/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, OidcTokenIssuer, TokenService } from "../../../src/tokens/index.js";

const ISSUER = "https://archway.test";
const HOUR = 3_600_000;

function setup() {
  const store = new MemoryStore();
  const keys = new KeyRing({
    store,
    algorithm: "ES256",
    additionalAlgorithms: ["RS256"],
    rotateAfterMs: 24 * HOUR,
    overlapMs: HOUR,
  });
  const tokens = new TokenService({ store, keys, issuer: ISSUER });
  const algs = new Map([["rp-rs256", "RS256" as const]]);
  const issue = new OidcTokenIssuer({
    tokens,
    clouds: [],
    policies: () => {
      throw new Error("no access tokens here");
    },
    accessTokenTtlSeconds: 300,
    idTokenTtlSeconds: 300,
    idTokenAlgorithm: (clientId) => algs.get(clientId),
  });
  const grant = (clientId: string) => ({
    clientId,
    identity: IdentitySchema.parse({ id: "demo:alice", source: "demo", username: "alice" }),
    scope: ["openid", "profile"],
    authTime: Math.floor(Date.now() / 1000),
    nonce: "n-1",
  });
  return { keys, tokens, issue, grant };
}

const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

describe("RS256 for relying parties that ask for it", () => {
  it("signs a client's ID token with RS256 when it asks, and jose verifies it against the JWKS", async () => {
    const t = setup();
    const { token } = await t.issue.idToken(t.grant("rp-rs256"));
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "RS256", typ: "JWT" });
    const jwks = createLocalJWKSet(await t.keys.jwks());
    const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: "rp-rs256", algorithms: ["RS256"] });
    expect(payload).toMatchObject({ sub: "demo:alice", nonce: "n-1", preferred_username: "alice" });
    // Archway's own check (id_token_hint) takes it too: the key's algorithm is RS256.
    await expect(t.tokens.verifyIgnoringExpiry(token, { audience: "rp-rs256", type: "JWT" })).resolves.toMatchObject({
      sub: "demo:alice",
    });
  });

  it("keeps ES256 for clients that do not ask, and for Archway's own tokens", async () => {
    const t = setup();
    expect(decodeProtectedHeader((await t.issue.idToken(t.grant("other"))).token).alg).toBe("ES256");
    const own = await t.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 60 });
    expect(decodeProtectedHeader(own.token).alg).toBe("ES256");
  });

  it("refuses a token whose header says RS256 while its kid names the ES256 key", async () => {
    const t = setup();
    const esKid = (await t.keys.signingKey()).kid;
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT({ jti: "x" })
      .setProtectedHeader({ alg: "RS256", kid: esKid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setSubject("admin")
      .setAudience("a")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
    await expect(t.tokens.verify(forged, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
    // And the reverse: an ES256 header on the RS256 key's kid.
    const rsKid = (await t.keys.signingKey("RS256")).kid;
    const { privateKey: ec } = await generateKeyPair("ES256");
    const reverse = await new SignJWT({ jti: "y" })
      .setProtectedHeader({ alg: "ES256", kid: rsKid, typ: "at+jwt" })
      .setIssuer(ISSUER)
      .setSubject("admin")
      .setAudience("a")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(ec);
    await expect(t.tokens.verify(reverse, { audience: "a" })).rejects.toMatchObject({ code: "token_invalid" });
  });

  it("refuses HS256 made with the RS256 public key as the HMAC secret (the classic confusion attack)", async () => {
    const t = setup();
    const rsJwk = (await t.keys.jwks()).keys.find((k) => k.alg === "RS256");
    if (!rsJwk) throw new Error("no RS256 key in the JWKS");
    const pem = createPublicKey({ key: { kty: "RSA", n: rsJwk.n, e: rsJwk.e }, format: "jwk" }).export({
      format: "pem",
      type: "spki",
    }) as string;
    const der = createPublicKey(pem).export({ format: "der", type: "pkcs1" });
    const now = Math.floor(Date.now() / 1000);
    const payload = { iss: ISSUER, sub: "admin", aud: "a", iat: now, nbf: now, exp: now + 300, jti: "forged" };
    const input = `${enc({ alg: "HS256", kid: rsJwk.kid, typ: "at+jwt" })}.${enc(payload)}`;
    for (const secret of [pem, pem.trim(), der, JSON.stringify(rsJwk), String(rsJwk.n)]) {
      const sig = createHmac("sha256", secret).update(input).digest("base64url");
      await expect(t.tokens.verify(`${input}.${sig}`, { audience: "a" })).rejects.toMatchObject({
        code: "token_invalid",
      });
    }
  });
});
