import { describe, expect, it } from "vitest";
import { storeUnavailable } from "../../../src/errors.js";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

// Issue 23 item 2: a token check that cannot reach the store is a 503 store_unavailable, never a 401; a revocation
// read in the last few seconds still answers; the key ring keeps serving the keys this process holds.
const HOUR = 3_600_000;
const AUDIENCE = "archway:facade";

/** A memory store whose reads fail like an unreachable Redis while `down` is set. */
class FlakyStore extends MemoryStore {
  down = false;
  override async get(key: string): Promise<string | null> {
    if (this.down) throw storeUnavailable(new Error("connection closed"));
    return super.get(key);
  }
}

async function setup() {
  let now = Date.now();
  const store = new FlakyStore();
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 24 * HOUR, overlapMs: HOUR, now: () => now });
  const tokens = new TokenService({ store, keys, issuer: "https://archway.test", now: () => now });
  const issue = async () => (await tokens.issue({ subject: "demo:alice", audience: AUDIENCE, ttlSeconds: 900 })).token;
  return { store, keys, tokens, issue, advance: (ms: number) => (now += ms) };
}

describe("token checks during a store outage", () => {
  it("a token never checked before is a 503 store_unavailable, not a 401", async () => {
    const { store, tokens, issue } = await setup();
    const token = await issue();
    store.down = true;
    await expect(tokens.verify(token, { audience: AUDIENCE })).rejects.toMatchObject({
      code: "store_unavailable",
      status: 503,
    });
  });

  it("a token checked in the last seconds still verifies; after the grace it is a 503", async () => {
    const { store, tokens, issue, advance } = await setup();
    const token = await issue();
    await tokens.verify(token, { audience: AUDIENCE });
    store.down = true;
    advance(1_000);
    await expect(tokens.verify(token, { audience: AUDIENCE })).resolves.toMatchObject({ sub: "demo:alice" });
    advance(10_000);
    await expect(tokens.verify(token, { audience: AUDIENCE })).rejects.toMatchObject({ code: "store_unavailable" });
  });

  it("the key ring serves the keys it holds (JWKS) while the store is down", async () => {
    const { store, keys, advance } = await setup();
    const before = await keys.jwks();
    store.down = true;
    advance(60_000);
    expect(await keys.jwks()).toEqual(before);
  });
});
