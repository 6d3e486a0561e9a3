import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { type Sealer, storeSealer } from "../../../src/tokens/index.js";
import { keystoneAdminToken } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { type FacadeHarness, startFacade } from "./harness.js";

// Issue 22, items 8 and 10, against the real Redis and the real Keystones: a dump of the store after a brokered
// login and key generation holds no Keystone token and no private key; an RS256 ID token verifies against the JWKS.
const prefix = `archway-at-rest-${randomBytes(4).toString("hex")}:`;
const redis = new Redis(loadEndpoints().redis.url);
let h: FacadeHarness;
let sealer: Sealer;

/** Every value under this run's prefix, whatever its Redis type, as text. */
async function dump(): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === "string") values.set(key, (await redis.get(key)) ?? "");
      else if (type === "stream") values.set(key, JSON.stringify(await redis.xrange(key, "-", "+")));
      else if (type === "hash") values.set(key, JSON.stringify(await redis.hgetall(key)));
      else if (type === "list") values.set(key, JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === "set") values.set(key, JSON.stringify(await redis.smembers(key)));
      else if (type === "zset") values.set(key, JSON.stringify(await redis.zrange(key, 0, -1, "WITHSCORES")));
    }
  } while (cursor !== "0");
  return values;
}

beforeAll(async () => {
  h = await startFacade(18131, {
    extraConfig:
      `store: { type: redis, url: "${loadEndpoints().redis.url}", keyPrefix: "${prefix}" }\n` +
      `idp:\n  clients:\n    - { id: rp-rs256, secret: rp-secret, grants: [password], idTokenSignedResponseAlg: RS256 }\n`,
  });
  sealer = storeSealer(loadConfig(h.configFile).config.secrets);
}, 120_000);

afterAll(async () => {
  await h?.close();
  const keys = [...(await dump()).keys()];
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

describe("secrets at rest in the real Redis", () => {
  it("holds no Keystone token and no private signing key in the clear after a brokered login", async () => {
    const login = await fetch(`${h.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: "alice", password: h.password } } },
          scope: { project: { name: "cloud-1:u-alice", domain: { name: "archway" } } },
        },
      }),
    });
    expect(login.status).toBe(201);
    // Through the proxy: the broker logs in to the real cloud-1 Keystone as alice's shadow user and caches it.
    const proxied = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": login.headers.get("x-subject-token") ?? "" },
    });
    expect(proxied.status).toBe(200);

    const values = await dump();
    const text = [...values.values()].join("\n");
    const brokered = [...values.entries()].filter(([k]) => /:broker:\d+:/.test(k) && !k.endsWith(":lock"));
    expect(brokered.length).toBeGreaterThan(0);
    const admin = await keystoneAdminToken("cloud-1");
    for (const [key, raw] of brokered) {
      expect(raw.startsWith("seal1.")).toBe(true);
      // Opened with the configured secret, it is a real, valid token of the real Keystone...
      const { token } = JSON.parse(sealer.open(raw, key.slice(prefix.length)).plaintext) as { token: string };
      const check = await fetch(`${h.env.keystones[0]?.authUrl}/auth/tokens`, {
        headers: { "x-auth-token": admin, "x-subject-token": token },
      });
      expect(check.status).toBe(200);
      // ...that appears nowhere in the store.
      expect(text).not.toContain(token);
    }
    expect(text).not.toMatch(/gAAAAA[A-Za-z0-9_-]{40}/); // no Fernet token at all

    const ringRaw = values.get(`${prefix}tokens:keyring`) ?? "";
    expect(ringRaw.startsWith("seal1.")).toBe(true);
    const ring = JSON.parse(sealer.open(ringRaw, "tokens:keyring").plaintext) as {
      alg: string;
      privateJwk: Record<string, string>;
    }[];
    expect(ring.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);
    for (const key of ring) {
      for (const part of ["d", "p", "q", "dp", "dq", "qi"]) {
        const secret = key.privateJwk[part];
        if (secret) expect(text).not.toContain(secret);
      }
    }
    expect(text).not.toMatch(/"d"\s*:/);

    // A cached value that was altered in the store is not used: the broker logs in again and seals a new one.
    const [key, raw] = brokered[0] as [string, string];
    const parts = raw.split(".");
    parts[3] = `${parts[3]?.startsWith("A") ? "B" : "A"}${parts[3]?.slice(1)}`;
    await redis.set(key, parts.join("."), "KEEPTTL");
    const again = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": login.headers.get("x-subject-token") ?? "" },
    });
    expect(again.status).toBe(200);
    const resealed = (await redis.get(key)) ?? "";
    expect(resealed).not.toBe(parts.join("."));
    expect(JSON.parse(sealer.open(resealed, key.slice(prefix.length)).plaintext)).toHaveProperty("token");
  });
});

describe("RS256 ID tokens", () => {
  it("signs the ID token of a client that asks for RS256; jose verifies it against the served JWKS", async () => {
    const discovery = (await (await fetch(`${h.url}/.well-known/openid-configuration`)).json()) as {
      id_token_signing_alg_values_supported: string[];
      jwks_uri: string;
    };
    expect(discovery.id_token_signing_alg_values_supported).toEqual(["ES256", "RS256"]);
    const res = await fetch(`${h.url}/oauth2/token`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Basic ${Buffer.from("rp-rs256:rp-secret").toString("base64")}`,
      },
      body: new URLSearchParams({ grant_type: "password", username: "alice", password: h.password, scope: "openid" }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id_token: string; access_token: string };
    expect(decodeProtectedHeader(body.id_token).alg).toBe("RS256");
    expect(decodeProtectedHeader(body.access_token).alg).toBe("ES256");
    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload } = await jwtVerify(body.id_token, jwks, {
      issuer: h.url,
      audience: "rp-rs256",
      algorithms: ["RS256"],
    });
    expect(payload.sub).toBe("demo:alice");
  });
});
