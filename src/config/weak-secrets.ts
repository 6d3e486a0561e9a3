import { createHash } from "node:crypto";
import { BlockList } from "node:net";

/**
 * SHA-256 of each public demo secret shipped in `config/secrets/` (the file's text without its final newline), with
 * the file it comes from. Recognised by content, not by path: a copy elsewhere, or the value pasted inline, is the
 * same public secret. `test/unit/config/weak-secrets.test.ts` fails when a file there is missing from this list.
 */
export const DEMO_SECRET_DIGESTS: ReadonlyMap<string, string> = new Map([
  ["16175223c8ddce5ace0493c948569c211b03c4c6bb3d3e484434999448cffe01", "config/secrets/demo-cloud-admin"],
  ["6694adcb67eb8374309f481eef49bc81e5b8b5724d0115ceb1294b181d274467", "config/secrets/demo-idp-client"],
  ["c44a23eeca222fd2a3044bd07760f578b6f829a7a1c79b58ed17a1a4e64258a0", "config/secrets/demo-session-key"],
  ["3d3edbdcbfd377e3f005a6cfa01357c2375db0b7c8099ca582ebbaee378c347d", "config/secrets/demo-shadow-key"],
]);

/** Smallest accepted length of a `secrets.*` key, in bytes (UTF-8): as many as a 256-bit random key. */
export const MIN_SECRET_BYTES = 32;
/** Fewest different characters a `secrets.*` key must use: a hex or base64 random key always has more. */
export const MIN_DISTINCT_CHARS = 12;

const HOW_TO_MAKE = "make one with `openssl rand -base64 32`";

/** The file a value comes from when it is one of the public demo secrets, else undefined. */
export function demoSecretOf(value: string): string | undefined {
  // Nothing shorter than the shortest demo secret can be one: skips hashing names, ids and numbers.
  if (value.length < 8) return undefined;
  return DEMO_SECRET_DIGESTS.get(createHash("sha256").update(value).digest("hex"));
}

/**
 * Why a key is too weak to sign or derive anything with, or undefined when it passes. The rule is deliberately
 * simple, to be checkable by a person: at least {@link MIN_SECRET_BYTES} bytes, at least
 * {@link MIN_DISTINCT_CHARS} different characters (refuses `aaaa...`, `passwordpassword...`), and not one shorter
 * piece repeated (`0123456789ab0123456789ab...`). It cannot prove randomness; it catches what people type.
 */
export function secretWeakness(value: string): string | undefined {
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes < MIN_SECRET_BYTES) {
    return `is ${bytes} bytes long; a key needs at least ${MIN_SECRET_BYTES} random bytes (${HOW_TO_MAKE})`;
  }
  const distinct = new Set(value).size;
  if (distinct < MIN_DISTINCT_CHARS) {
    return `uses only ${distinct} different characters, not a random key (${HOW_TO_MAKE})`;
  }
  const period = smallestPeriod(value);
  if (period < value.length) {
    return `repeats the same ${period} characters, not a random key (${HOW_TO_MAKE})`;
  }
  return undefined;
}

/** A weak or public secret found in a config document, by its path there. */
export interface SecretFinding {
  path: PropertyKey[];
  message: string;
}

/** Names, under `secrets`, of fields that label a key rather than hold one (a key ring's ids, versions). */
const LABELS = new Set(["id", "kid", "name", "version", "algorithm", "alg", "use"]);

/**
 * Every public demo secret anywhere in a resolved config document (cloud admin passwords, client secrets, bind
 * passwords, keys), and every weak value under `secrets` (see {@link secretWeakness}), nested or not, except the
 * fields that only label a key (`id`, `kid`, `version`...). `keysUnder` names the document's key section: the
 * main config has `secrets`, a clouds inventory file none.
 */
export function findWeakSecrets(doc: unknown, opts: { keysUnder?: string } = {}): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const walk = (node: unknown, path: PropertyKey[], isKey: boolean): void => {
    if (typeof node === "string") {
      const demo = demoSecretOf(node);
      if (demo) {
        findings.push({
          path,
          message: `is the public demo secret of ${demo}: anyone can read it; replace it (${HOW_TO_MAKE}), or set demo: true on a loopback-only listen address`,
        });
        return;
      }
      const weak = isKey ? secretWeakness(node) : undefined;
      if (weak) findings.push({ path, message: weak });
      return;
    }
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, [...path, i], isKey);
      return;
    }
    if (node && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        const inKeys = isKey || (path.length === 0 && key === opts.keysUnder);
        walk(value, [...path, key], inKeys && !(isKey && LABELS.has(key)));
      }
    }
  };
  walk(doc, [], false);
  return findings;
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/**
 * Whether a listen address only accepts connections from this machine: `localhost`, 127.0.0.0/8 or ::1 (also
 * written as an IPv4-mapped IPv6 address). `0.0.0.0` and `::` listen everywhere and are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  for (const type of ["ipv4", "ipv6"] as const) {
    try {
      if (LOOPBACK.check(h, type)) return true;
    } catch {
      // not an address of this family
    }
  }
  return false;
}

/**
 * Length of the shortest piece whose repetition makes up `value`, the last copy possibly cut short (the whole
 * length when no piece repeats at least twice).
 */
function smallestPeriod(value: string): number {
  for (let p = 1; p <= value.length / 2; p++) {
    if (value.slice(p) === value.slice(0, value.length - p)) return p;
  }
  return value.length;
}
