import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildRuntime } from "../../../src/cli/runtime.js";
import { loadConfig } from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const pem = (key: KeyObject) => key.export({ format: "pem", type: "pkcs8" }) as string;
const ecKey = () => pem(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
const rsaKey = () => pem(generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey);

/** A config folder `<tmp>/conf` with `signing` as given and the key files under `<tmp>/conf/<keysDir>`. */
function configWith(signing: string, keys: Record<string, string> | undefined, keysDir = "keys") {
  const root = mkdtempSync(join(tmpdir(), "archway-signing-"));
  made.push(root);
  const conf = join(root, "conf");
  mkdirSync(conf);
  if (keys) {
    mkdirSync(join(conf, keysDir), { recursive: true });
    for (const [name, text] of Object.entries(keys)) writeFileSync(join(conf, keysDir, name), text);
  }
  writeFileSync(
    join(conf, "archway.yaml"),
    `signing: ${signing}\npoliciesDir: .\nlog: { level: silent }\ndeploymentId: t\n`,
  );
  return { root, conf, file: join(conf, "archway.yaml") };
}

describe("signing.dir", () => {
  it("is resolved against the config file's folder, not the working directory, and signs", async () => {
    const { root, conf, file } = configWith("{ keys: files, dir: keys }", { "a.pem": ecKey(), "b.pem": rsaKey() });
    const io = { ...captureIO(), cwd: root };
    expect(loadConfig("conf/archway.yaml", { cwd: root }).config.signing.dir).toBe(join(conf, "keys"));
    const runtime = buildRuntime(file, io);
    try {
      const issued = await runtime.tokens.issue({ subject: "s", audience: "a", ttlSeconds: 60 });
      await expect(runtime.tokens.verify(issued.token, { audience: "a" })).resolves.toMatchObject({ sub: "s" });
      expect((await runtime.keys.signingKey("RS256")).alg).toBe("RS256");
    } finally {
      await runtime.close();
    }
    expect(await runCli(["config", "check", "--config", file], captureIO())).toBe(0);
  });

  it("fails config check with exit 2 and a line naming the folder when it is missing", async () => {
    const { conf, file } = configWith("{ keys: files, dir: ../nowhere }", undefined);
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", file], io)).toBe(2);
    expect(io.stderr()).toContain(`signing.dir: folder ${join(conf, "..", "nowhere")} cannot be read (ENOENT)`);
  });

  it("fails serve at start, exit 2, naming the folder (no server answering 500 on every token request)", async () => {
    const { conf, file } = configWith("{ keys: files, dir: keys }", {});
    const io = captureIO();
    expect(await runCli(["serve", "--config", file, "--port", "0"], io)).toBe(2);
    expect(io.stderr()).toContain(`folder ${join(conf, "keys")} has no ES256 key`);
    expect(io.stderr()).toContain(`folder ${join(conf, "keys")} has no RS256 key`);
  });

  it("names a key file that is not a usable key, without quoting it, and a missing key for an algorithm", async () => {
    const { conf, file } = configWith("{ keys: files, dir: keys, additionalAlgorithms: [] }", {
      "a.pem": ecKey(),
      "broken.jwk": '{"kty":"EC","d":"c2VjcmV0LXNlY3JldA", oops',
    });
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", file], io)).toBe(2);
    expect(io.stderr()).toContain(`key file ${join(conf, "keys", "broken.jwk")} cannot be used: not valid JSON`);
    expect(io.stderr()).not.toContain("c2VjcmV0");
  });

  it("requires signing.dir with keys: files, and a client's ID-token algorithm among the ring's", async () => {
    const { file } = configWith("{ keys: files }", undefined);
    const io = captureIO();
    expect(await runCli(["config", "check", "--config", file], io)).toBe(2);
    expect(io.stderr()).toMatch(/signing\.keys: signing\.keys is 'files' but signing\.dir is not set/);
    const other = configWith("{ additionalAlgorithms: [] }", undefined);
    writeFileSync(
      other.file,
      `signing: { additionalAlgorithms: [] }\nidp:\n  clients:\n    - { id: rp, secret: s, redirectUris: ["https://rp.test/cb"], idTokenSignedResponseAlg: RS256 }\n`,
    );
    const io2 = captureIO();
    expect(await runCli(["config", "check", "--config", other.file], io2)).toBe(2);
    expect(io2.stderr()).toMatch(/idp\.clients\[0\]\.idTokenSignedResponseAlg: RS256 is not in signing\.algorithm/);
  });
});
