import { createPrivateKey, type JsonWebKey, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ArchwayError } from "../errors.js";
import { formatPath, type LocatedDocument, type LocatedProblem } from "./located-yaml.js";
import type { Config, SigningAlgorithm } from "./schema/index.js";

/** A private key read from `signing.dir`, with the algorithm its type implies. */
export interface SigningKeyFile {
  name: string;
  alg: SigningAlgorithm;
  key: KeyObject;
}

/** The names of key files in a folder, newest (last by name) first: the newest of each algorithm signs. */
function keyFileNames(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /\.(pem|jwk|json)$/.test(n))
    .sort()
    .reverse();
}

/**
 * The algorithm a private key is for, from its type: P-256 is ES256, Ed25519 EdDSA, RSA (2048 bits or more) RS256.
 * Throws a plain Error naming what is wrong otherwise.
 */
function algorithmOf(key: KeyObject): SigningAlgorithm {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec" && details?.namedCurve === "prime256v1") return "ES256";
  if (key.asymmetricKeyType === "ed25519") return "EdDSA";
  if (key.asymmetricKeyType === "rsa") {
    if ((details?.modulusLength ?? 0) < 2048) throw new Error("an RSA key needs at least 2048 bits");
    return "RS256";
  }
  throw new Error("expected a P-256 (ES256), Ed25519 (EdDSA) or RSA (RS256) private key");
}

/** Reads one key file: PKCS#8 PEM, or a private JWK. */
function readKeyFile(dir: string, name: string): SigningKeyFile {
  const text = readFileSync(join(dir, name), "utf8");
  const key = name.endsWith(".pem") ? createPrivateKey(text) : createPrivateKey({ key: parseJwk(text), format: "jwk" });
  return { name, alg: algorithmOf(key), key };
}

/** A JWK file's JSON; a parse error would quote the file, which holds a private key, so it says only what failed. */
function parseJwk(text: string): JsonWebKey {
  try {
    return JSON.parse(text) as JsonWebKey;
  } catch {
    throw new Error("not valid JSON");
  }
}

/**
 * Every private key in `dir`, newest name first. Throws `ArchwayError` `keys_missing` naming the folder or file that
 * cannot be used (the config loader has checked them at start; this catches what changed since).
 */
export function readSigningKeyFiles(dir: string): SigningKeyFile[] {
  try {
    return keyFileNames(dir).map((name) => {
      try {
        return readKeyFile(dir, name);
      } catch (err) {
        throw new ArchwayError("keys_missing", `signing key file ${join(dir, name)}: ${reason(err)}`, 500);
      }
    });
  } catch (err) {
    if (err instanceof ArchwayError) throw err;
    throw new ArchwayError("keys_missing", `signing.dir ${dir} cannot be read (${reason(err)})`, 500);
  }
}

/**
 * Resolves `signing.dir` against the config file's folder (in place: the rest of Archway sees an absolute path)
 * and, with `signing.keys: files`, checks that it holds a usable key for every configured algorithm, and that each
 * client's ID-token algorithm is one the ring signs with. Problems name the path.
 */
export function checkSigning(config: Config, baseDir: string, file: string, doc: LocatedDocument): LocatedProblem[] {
  const problems: LocatedProblem[] = [];
  const at = (path: PropertyKey[], message: string) =>
    problems.push({ file, ...doc.locate(path), path: formatPath(path), message });
  const signing = config.signing;
  const algorithms = new Set([signing.algorithm, ...signing.additionalAlgorithms]);
  config.idp.clients.forEach((client, i) => {
    const alg = client.idTokenSignedResponseAlg;
    if (alg && !algorithms.has(alg))
      at(
        ["idp", "clients", i, "idTokenSignedResponseAlg"],
        `${alg} is not in signing.algorithm or additionalAlgorithms`,
      );
  });
  if (signing.dir !== undefined) signing.dir = resolve(baseDir, signing.dir);
  if (signing.keys !== "files") return problems;
  const dir = signing.dir;
  if (dir === undefined) {
    at(["signing", "keys"], "signing.keys is 'files' but signing.dir is not set");
    return problems;
  }
  let names: string[];
  try {
    names = keyFileNames(dir);
  } catch (err) {
    at(["signing", "dir"], `folder ${dir} cannot be read (${reason(err)})`);
    return problems;
  }
  const found = new Set<SigningAlgorithm>();
  for (const name of names) {
    try {
      found.add(readKeyFile(dir, name).alg);
    } catch (err) {
      at(["signing", "dir"], `key file ${join(dir, name)} cannot be used: ${reason(err)}`);
    }
  }
  for (const alg of algorithms) {
    if (!found.has(alg))
      at(["signing", "dir"], `folder ${dir} has no ${alg} key (*.pem PKCS#8 or *.jwk/*.json private JWK)`);
  }
  return problems;
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code && /^E[A-Z]+$/.test(code)) return code;
  return err instanceof Error ? err.message.split("\n")[0] || "unreadable" : "unreadable";
}
