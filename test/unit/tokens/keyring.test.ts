import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, Sealer, type SigningAlgorithm, TokenService } from "../../../src/tokens/index.js";

const HOUR = 3_600_000;
const STORE_KEY = "s".repeat(44);

function setup(opts: { sealer?: Sealer; additional?: SigningAlgorithm[]; store?: MemoryStore } = {}) {
  let now = Date.parse("2026-11-24T10:00:00Z");
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const store = opts.store ?? new MemoryStore({ now: clock.now });
  const ring = (o: { sealer?: Sealer; additional?: SigningAlgorithm[] }) =>
    new KeyRing({
      store,
      algorithm: "ES256",
      additionalAlgorithms: o.additional ?? ["RS256"],
      rotateAfterMs: 24 * HOUR,
      overlapMs: 2 * HOUR,
      now: clock.now,
      cacheMs: 0,
      ...(o.sealer ? { sealer: o.sealer } : {}),
    });
  return { clock, store, keys: ring(opts), ring };
}

describe("key ring with several algorithms", () => {
  it("holds an active key per configured algorithm and lists them all in the JWKS", async () => {
    const { keys } = setup();
    expect(keys.algorithms).toEqual(["ES256", "RS256"]);
    expect((await keys.signingKey()).alg).toBe("ES256");
    expect((await keys.signingKey("RS256")).alg).toBe("RS256");
    await expect(keys.signingKey("EdDSA")).rejects.toThrow(/no EdDSA signing key/);
    const jwks = await keys.jwks();
    expect(jwks.keys.map((k) => [k.alg, k.kty])).toEqual([
      ["ES256", "EC"],
      ["RS256", "RSA"],
    ]);
    for (const k of jwks.keys) expect(k.d ?? k.p ?? k.q).toBeUndefined();
  });

  it("rotates each algorithm's key and retires a dropped algorithm after the overlap window", async () => {
    const { keys, ring, clock } = setup();
    const es = (await keys.signingKey()).kid;
    const rs = (await keys.signingKey("RS256")).kid;
    clock.advance(25 * HOUR);
    expect((await keys.signingKey()).kid).not.toBe(es);
    expect((await keys.signingKey("RS256")).kid).not.toBe(rs);
    expect((await keys.verificationKeys()).map((k) => k.kid)).toEqual(expect.arrayContaining([es, rs]));
    // The operator drops RS256: its keys stop signing now and verify for the overlap window only.
    const esOnly = ring({ additional: [] });
    await expect(esOnly.signingKey("RS256")).rejects.toThrow(/no RS256/);
    expect((await esOnly.verificationKeys()).some((k) => k.alg === "RS256")).toBe(true);
    clock.advance(3 * HOUR);
    expect((await esOnly.verificationKeys()).some((k) => k.alg === "RS256")).toBe(false);
  });

  it("keeps ES256 keys first among the verification keys (the hot path finds its key first)", async () => {
    const { keys } = setup();
    const verifying = await keys.verificationKeys();
    expect(verifying[0]?.alg).toBe("ES256");
  });
});

describe("signing keys at rest in the store", () => {
  it("stores the ring sealed: no private key material and no JWK in the raw value", async () => {
    const { keys, store } = setup({ sealer: new Sealer({ current: STORE_KEY }) });
    const rs = await keys.signingKey("RS256");
    const raw = (await store.get("tokens:keyring")) as string;
    expect(raw.startsWith("seal1.")).toBe(true);
    for (const needle of ['"d"', '"p"', '"q"', "privateJwk", rs.kid, '"kty"']) expect(raw).not.toContain(needle);
  });

  it("replaces a ring stored in the clear once sealing is on (a plain ring is not trusted)", async () => {
    const plain = setup();
    const oldKid = (await plain.keys.signingKey()).kid;
    expect(await plain.store.get("tokens:keyring")).toContain('"d"');
    const sealed = plain.ring({ sealer: new Sealer({ current: STORE_KEY }) });
    expect((await sealed.signingKey()).kid).not.toBe(oldKid);
    expect(await plain.store.get("tokens:keyring")).toMatch(/^seal1\./);
  });

  it("refuses a ring it cannot open (tampered or foreign key) and never overwrites it", async () => {
    const { keys, store, ring } = setup({ sealer: new Sealer({ current: STORE_KEY }) });
    await keys.signingKey();
    const raw = (await store.get("tokens:keyring")) as string;
    await expect(ring({ sealer: new Sealer({ current: "x".repeat(44) }) }).signingKey()).rejects.toThrow(
      /cannot be opened: check secrets\.storeKey/,
    );
    await expect(ring({}).signingKey()).rejects.toThrow(/keys_unreadable|cannot be opened/);
    const parts = raw.split(".");
    const body = Buffer.from(parts[3]!, "base64url");
    body[5] = (body[5] ?? 0) ^ 0xff;
    parts[3] = body.toString("base64url");
    await store.set("tokens:keyring", parts.join("."));
    await expect(ring({ sealer: new Sealer({ current: STORE_KEY }) }).signingKey()).rejects.toThrow(/cannot be opened/);
    expect(await store.get("tokens:keyring")).toBe(parts.join("."));
  });

  it("rotates the store key: a previous key opens the ring, which is sealed again with the new one, same keys", async () => {
    const { keys, store, ring } = setup({ sealer: new Sealer({ current: STORE_KEY }) });
    const kids = [(await keys.signingKey()).kid, (await keys.signingKey("RS256")).kid];
    const before = (await store.get("tokens:keyring")) as string;
    const rotated = ring({ sealer: new Sealer({ current: "n".repeat(44), previous: [STORE_KEY] }) });
    expect([(await rotated.signingKey()).kid, (await rotated.signingKey("RS256")).kid]).toEqual(kids);
    const after = (await store.get("tokens:keyring")) as string;
    expect(after.split(".")[1]).not.toBe(before.split(".")[1]);
    // Now the old store key can leave the configuration.
    const newOnly = ring({ sealer: new Sealer({ current: "n".repeat(44) }) });
    expect((await newOnly.signingKey()).kid).toBe(kids[0]);
  });

  it("tokens signed before a store-key rotation still verify after it", async () => {
    const { keys, store, ring } = setup({ sealer: new Sealer({ current: STORE_KEY }) });
    const issued = await new TokenService({ store, keys, issuer: "https://a.test" }).issue({
      subject: "s",
      audience: "a",
      ttlSeconds: 60,
    });
    const rotated = ring({ sealer: new Sealer({ current: "n".repeat(44), previous: [STORE_KEY] }) });
    const verifier = new TokenService({ store, keys: rotated, issuer: "https://a.test" });
    await expect(verifier.verify(issued.token, { audience: "a" })).resolves.toMatchObject({ sub: "s" });
  });
});

describe("keys from files", () => {
  const dir = mkdtempSync(join(tmpdir(), "archway-keys-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes each file's algorithm from its key type; the newest name of each algorithm signs", async () => {
    const pem = (k: ReturnType<typeof generateKeyPairSync>["privateKey"]) =>
      k.export({ format: "pem", type: "pkcs8" }) as string;
    writeFileSync(join(dir, "2026-01-es.pem"), pem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey));
    writeFileSync(join(dir, "2026-02-es.pem"), pem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey));
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    writeFileSync(join(dir, "2026-01-rs.jwk"), JSON.stringify(rsa.export({ format: "jwk" })));
    const keys = new KeyRing({
      store: new MemoryStore(),
      algorithm: "ES256",
      additionalAlgorithms: ["RS256"],
      rotateAfterMs: HOUR,
      overlapMs: HOUR,
      source: "files",
      dir,
    });
    const verifying = await keys.verificationKeys();
    expect(verifying.map((k) => k.alg)).toEqual(["ES256", "ES256", "RS256"]);
    expect((await keys.signingKey()).kid).toBe(verifying[0]?.kid);
    expect((await keys.signingKey("RS256")).alg).toBe("RS256");
  });
});
