import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkSecrets,
  DEMO_SECRET_DIGESTS,
  demoSecretOf,
  findWeakSecrets,
  isLoopbackHost,
  loadConfig,
  secretWeakness,
} from "../../../src/config/index.js";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// Issue 22, item 1: with the public demo shadow key anyone computed alice's shadow password. The demo secrets and
// weak keys are refused unless `demo: true` on a loopback address.
const DEMO_DIR = resolve("config/secrets");
const strong = () => randomBytes(32).toString("base64url");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function tempConfig(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "archway-secrets-"));
  made.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, "archway.yaml");
}

async function check(file: string, env: NodeJS.ProcessEnv = {}) {
  const io = captureIO(env);
  const code = await runCli(["config", "check", "--config", file], io);
  return { code, err: io.stderr(), out: io.stdout() };
}

describe("the public demo secrets", () => {
  it("knows every file under config/secrets/ by the digest of its content", () => {
    const files = readdirSync(DEMO_DIR);
    expect(files.length).toBeGreaterThan(0);
    for (const name of files) {
      const value = readFileSync(join(DEMO_DIR, name), "utf8").replace(/\r?\n$/, "");
      expect(demoSecretOf(value), name).toBe(`config/secrets/${name}`);
    }
    expect(DEMO_SECRET_DIGESTS.size).toBe(files.length);
  });

  it("recognises a demo key copied elsewhere or pasted inline, anywhere in the config", () => {
    const shadow = readFileSync(join(DEMO_DIR, "demo-shadow-key"), "utf8").trim();
    const admin = readFileSync(join(DEMO_DIR, "demo-cloud-admin"), "utf8").trim();
    const findings = findWeakSecrets(
      { secrets: { shadowPasswordKey: shadow }, clouds: [{ id: "c1", admin: { username: "admin", password: admin } }] },
      { keysUnder: "secrets" },
    );
    expect(findings.map((f) => f.path.join("."))).toEqual(["secrets.shadowPasswordKey", "clouds.0.admin.password"]);
    expect(findings[0]?.message).toMatch(/public demo secret of config\/secrets\/demo-shadow-key/);
  });
});

describe("weak keys (secrets.*)", () => {
  it.each([
    ["shorter than 32 bytes", "x7Qp2LmZ9vKc4RtY8wNb3HjF6dSa1Ge", /is 31 bytes long/],
    ["one character repeated", "a".repeat(64), /only 1 different characters/],
    ["a dictionary-like short alphabet", "passwordpasswordpasswordpassword1", /only 8 different characters/],
    ["one piece repeated", "0123456789abcdef".repeat(4), /repeats the same 16 characters/],
    ["a piece repeated, the last copy cut short", "Zx8#kQ2!mP5$wR9&".repeat(3).slice(0, 40), /repeats the same 16/],
  ])("refuses a key %s", (_, value, why) => {
    expect(secretWeakness(value)).toMatch(why);
  });

  it("accepts random keys as openssl or Node make them (base64, hex, base64url of 32 bytes)", () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(32);
      for (const encoding of ["base64", "hex", "base64url"] as const) {
        expect(secretWeakness(bytes.toString(encoding))).toBeUndefined();
      }
    }
  });

  it("checks keys nested under `secrets` too, but not the fields that label them", () => {
    const findings = findWeakSecrets(
      {
        secrets: {
          ring: [
            { id: "k1", version: "2", key: "short" },
            { id: "k2", key: strong() },
          ],
        },
      },
      { keysUnder: "secrets" },
    );
    expect(findings.map((f) => f.path.join("."))).toEqual(["secrets.ring.0.key"]);
  });

  it("checks only the keys under `secrets`: a short cloud password is the cloud's business", () => {
    const findings = findWeakSecrets(
      { secrets: { sessionKey: "short" }, clouds: [{ admin: { password: "b" } }] },
      { keysUnder: "secrets" },
    );
    expect(findings).toEqual([{ path: ["secrets", "sessionKey"], message: expect.stringMatching(/5 bytes long/) }]);
  });
});

describe("loopback addresses", () => {
  it.each(["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"])(
    "%s is loopback",
    (host) => expect(isLoopbackHost(host)).toBe(true),
  );
  it.each(["0.0.0.0", "::", "10.0.0.1", "192.0.2.1", "128.0.0.1", "example.org", "localhost.example.org", ""])(
    "%s is not",
    (host) => expect(isLoopbackHost(host)).toBe(false),
  );
});

describe("archway config check and the secrets", () => {
  it("exits 2 on the demo secrets with a non-loopback listen address, one line naming each secret", async () => {
    // The demo files copied under other names: recognised by content, not path.
    const file = tempConfig({ "archway.yaml": "" });
    const dir = resolve(file, "..");
    copyFileSync(join(DEMO_DIR, "demo-shadow-key"), join(dir, "shadow.key"));
    copyFileSync(join(DEMO_DIR, "demo-session-key"), join(dir, "session.key"));
    writeFileSync(
      file,
      "listen: { host: 0.0.0.0, port: 8080 }\nsecrets:\n  shadowPasswordKey: ${file:shadow.key}\n  sessionKey: ${file:session.key}\ndeploymentId: t\n",
    );
    const { code, err, out } = await check(file);
    expect(code).toBe(2);
    expect(out).toBe("");
    const lines = err.trim().split("\n");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /archway\.yaml:3:22: secrets\.shadowPasswordKey: is the public demo secret of config\/secrets\/demo-shadow-key/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/archway\.yaml:4:15: secrets\.sessionKey: is the public demo secret of .*demo-session-key/),
    );
    // The values themselves are never printed.
    expect(err).not.toContain(readFileSync(join(DEMO_DIR, "demo-shadow-key"), "utf8").trim());
  });

  it("refuses demo: true on a non-loopback listen address, and says why", async () => {
    const file = tempConfig({
      "archway.yaml": `demo: true\nlisten: { host: 0.0.0.0 }\nsecrets: { shadowPasswordKey: ${strong()} }\n`,
    });
    const { code, err } = await check(file);
    expect(code).toBe(2);
    expect(err).toMatch(
      /archway\.yaml:1:7: demo: demo: true is allowed only with a loopback listen address.*0\.0\.0\.0/,
    );
  });

  it("accepts the demo secrets with demo: true on loopback, with a warning (the example config)", async () => {
    const { code, err, out } = await check("config/archway.example.yaml");
    expect(code).toBe(0);
    expect(out).toMatch(/ok \(3 clouds/);
    expect(err).toMatch(/WARNING: DEMO MODE .*secrets\.shadowPasswordKey/);
  });

  it("refuses a weak key even on loopback without demo: true, and accepts strong ones silently", async () => {
    const weak = tempConfig({ "archway.yaml": "secrets: { shadowPasswordKey: change-me }\ndeploymentId: t\n" });
    const refused = await check(weak);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/secrets\.shadowPasswordKey: is 9 bytes long; a key needs at least 32 random bytes/);

    const good = tempConfig({
      "archway.yaml":
        "listen: { host: 0.0.0.0 }\nsecrets: { shadowPasswordKey: '${env:K1}', sessionKey: '${env:K2}' }\ndeploymentId: t\n",
    });
    const accepted = await check(good, { K1: strong(), K2: strong() });
    expect(accepted).toMatchObject({ code: 0, err: "" });
  });

  it("finds a demo secret in a clouds inventory file, located there", async () => {
    const file = tempConfig({ "archway.yaml": "cloudsDir: inv\ndeploymentId: t\n" });
    const inv = join(resolve(file, ".."), "inv");
    mkdirSync(inv);
    writeFileSync(
      join(inv, "edge.yaml"),
      "clouds:\n  - id: edge-1\n    authUrl: http://127.0.0.1:5000/v3\n    admin: { username: admin, password: admin-secret }\n",
    );
    const { code, err } = await check(file);
    expect(code).toBe(2);
    expect(err).toMatch(
      /inv\/edge\.yaml:4:41: clouds\[0\]\.admin\.password: is the public demo secret of .*demo-cloud-admin/,
    );
  });

  it("lets serve --host decide: demo mode refused when the override is not loopback", () => {
    const loaded = loadConfig("config/archway.example.yaml");
    expect(checkSecrets(loaded).refused).toEqual([]);
    expect(checkSecrets(loaded, "0.0.0.0").refused.map((p) => p.path)).toContain("demo");
  });
});
