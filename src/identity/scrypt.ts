import { randomBytes, scrypt as scryptCb, timingSafeEqual } from "node:crypto";

const DEFAULTS = { N: 16384, r: 8, p: 1, keyLength: 32 };

function scrypt(password: string, salt: Buffer, keyLength: number, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keyLength, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** Hashes a password as `scrypt$N$r$p$<salt b64>$<hash b64>` (the format static users carry). */
export async function hashPassword(password: string, opts: Partial<typeof DEFAULTS> = {}): Promise<string> {
  const { N, r, p, keyLength } = { ...DEFAULTS, ...opts };
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, keyLength, N, r, p);
  return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Checks a password against a hash from {@link hashPassword} in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > 2 ** 20) return false;
  const salt = Buffer.from(parts[4] as string, "base64");
  const expected = Buffer.from(parts[5] as string, "base64");
  if (expected.length === 0) return false;
  const actual = await scrypt(password, salt, expected.length, N, r, p);
  return timingSafeEqual(actual, expected);
}
