import { describe, expect, it } from "vitest";
import { MemoryStore } from "../../../src/store/index.js";
import { KeyRing, TokenService } from "../../../src/tokens/index.js";

// Issue 22 item 9: a token with `==` appended (or another spelling of the same bytes) was accepted. Only the
// canonical base64url of each segment verifies now; the original keeps working, remembered or not.
const HOUR = 3_600_000;
const AUDIENCE = "archway:facade";

async function setup() {
  const store = new MemoryStore();
  const keys = new KeyRing({ store, algorithm: "ES256", rotateAfterMs: 24 * HOUR, overlapMs: HOUR });
  const tokens = new TokenService({ store, keys, issuer: "https://archway.test" });
  const { token } = await tokens.issue({ subject: "demo:alice", audience: AUDIENCE, ttlSeconds: 900 });
  return { tokens, token };
}

/** The token with segment `i` replaced by `f(segment)`. */
function tamper(token: string, i: number, f: (segment: string) => string): string {
  const parts = token.split(".");
  parts[i] = f(parts[i] as string);
  return parts.join(".");
}

/** The same bytes with the unused low bits of the last character set (a spelling decoders accept). */
function trailingBits(segment: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(segment.at(-1) as string);
  const unused = segment.length % 4 === 2 ? 0b1111 : 0b11;
  return segment.slice(0, -1) + alphabet[last | unused];
}

describe("non-canonical token encodings", () => {
  it("refuses `==` appended to the signature or the payload (after a remembered verification too)", async () => {
    const { tokens, token } = await setup();
    const variants = [`${token}==`, tamper(token, 1, (p) => `${p}==`), tamper(token, 0, (h) => `${h}=`)];
    for (const variant of variants) {
      await expect(tokens.verify(variant, { audience: AUDIENCE })).rejects.toMatchObject({
        code: "token_invalid",
        status: 401,
      });
    }
    await expect(tokens.verify(token, { audience: AUDIENCE })).resolves.toMatchObject({ sub: "demo:alice" });
    // The original is now remembered: its padded variants are other strings and still refused.
    for (const variant of variants)
      await expect(tokens.verify(variant, { audience: AUDIENCE })).rejects.toMatchObject({ status: 401 });
    await expect(tokens.verify(token, { audience: AUDIENCE })).resolves.toMatchObject({ sub: "demo:alice" });
  });

  it("refuses trailing bits set, characters outside the alphabet, and impossible lengths", async () => {
    const { tokens, token } = await setup();
    const signature = token.split(".")[2] as string;
    expect(signature.length % 4).not.toBe(0);
    const standardAlphabet = tamper(token, 2, (s) => s.replace(/[-_]/g, (c) => (c === "-" ? "+" : "/")));
    const variants = [
      tamper(token, 2, trailingBits),
      tamper(token, 1, trailingBits),
      tamper(token, 2, (s) => `${s.slice(0, 10)} ${s.slice(10)}`),
      // 4n+1 characters cannot be base64 of anything.
      tamper(token, 2, (s) => s + "AAAA".slice(0, (((1 - s.length) % 4) + 4) % 4 || 4)),
      `${token}\n`,
      ...(standardAlphabet === token ? [] : [standardAlphabet]),
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(token);
      await expect(tokens.verify(variant, { audience: AUDIENCE })).rejects.toMatchObject({ code: "token_invalid" });
    }
    await expect(tokens.verify(token, { audience: AUDIENCE })).resolves.toMatchObject({ sub: "demo:alice" });
  });
});
