import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "ldapts";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../../../src/main.js";
import { captureIO } from "../../helpers/io.js";

// No Docker engine runs here, so the scripts the images run are run as they are, outside an image: the Archway
// image's entry point with its default config, and the compose OpenLDAP image's entry point on Debian's slapd.
const started: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // slapd, dropped to the openldap user, must reach its data below
  dirs.push(dir);
  return dir;
}

/** A script the test started: what it printed, its exit. */
interface Running {
  output: () => string;
  exited: Promise<number | null>;
  done: () => boolean;
}

function run(script: string, args: string[], env: Record<string, string>): Running {
  const child = spawn("sh", [script, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  return {
    output: () => output,
    exited: new Promise((done) => child.once("exit", (code) => done(code))),
    done: () => child.exitCode !== null,
  };
}

/** Polls `probe` until it gives a value, the process exits, or 30 s pass. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, script: Running): Promise<T> {
  for (let i = 0; i < 300 && !script.done(); i++) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up:\n${script.output()}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe("the container image's entry point and default config", () => {
  it("starts Archway in loopback demo mode with keys made at start, and the demo users sign in", async () => {
    const dir = tempDir("archway-image-");
    cpSync("deploy/container/archway.yaml", join(dir, "archway.yaml"));
    mkdirSync(join(dir, "policies")); // empty, as the image makes it
    const config = join(dir, "archway.yaml");
    const archway = run("deploy/container/entrypoint.sh", ["serve", "--port", "0"], {
      ARCHWAY_CONFIG: config,
      ARCHWAY_DEFAULT_CONFIG: config,
      ARCHWAY_MAIN: resolve("dist/main.js"),
      NO_COLOR: "1",
    });
    const base = await waitFor(
      "archway",
      async () => /Archway listening on (http:\/\/\S+)/.exec(archway.output())?.[1],
      archway,
    );
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:/);
    expect(archway.output()).toMatch(/DEMO MODE/);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const login = await fetch(`${base}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "alice", domain: { name: "Default" }, password: "alice-demo" } },
          },
        },
      }),
    });
    expect(login.status).toBe(201);
    expect(login.headers.get("x-subject-token")).toBeTruthy();
  }, 60_000);

  it("refuses the image's default config on a public address: demo mode stays on loopback", async () => {
    const dir = tempDir("archway-image-");
    cpSync("deploy/container/archway.yaml", join(dir, "archway.yaml"));
    mkdirSync(join(dir, "policies")); // empty, as the image makes it
    const config = join(dir, "archway.yaml");
    const archway = run("deploy/container/entrypoint.sh", ["serve", "--host", "0.0.0.0", "--port", "0"], {
      ARCHWAY_CONFIG: config,
      ARCHWAY_DEFAULT_CONFIG: config,
      ARCHWAY_MAIN: resolve("dist/main.js"),
    });
    expect(await archway.exited).toBe(2);
    expect(archway.output()).toMatch(/demo: true is allowed only with a loopback listen address/);
  }, 60_000);
});

describe("the compose OpenLDAP image's entry point", () => {
  it("runs slapd with the admin password Archway binds with, and Archway finds people and their groups", async () => {
    const dir = tempDir("archway-compose-ldap-");
    const port = await freePort();
    const password = randomBytes(18).toString("base64");
    const slapd = run("deploy/compose/openldap/entrypoint.sh", [], {
      LDAP_ADMIN_PASSWORD: password,
      SLAPD_CONF: join(dir, "slapd.conf"),
      SLAPD_DATA: join(dir, "data"),
      SLAPD_BASE_LDIF: resolve("deploy/compose/openldap/base.ldif"),
      SLAPD_URLS: `ldap://127.0.0.1:${port}/`,
    });
    const url = `ldap://127.0.0.1:${port}`;
    const admin = new Client({ url });
    await waitFor(
      "slapd",
      async () => {
        await admin.bind("cn=admin,dc=example,dc=org", password);
        return true;
      },
      slapd,
    );
    await admin.add("uid=dana,ou=people,dc=example,dc=org", {
      objectClass: ["inetOrgPerson"],
      uid: "dana",
      cn: "Dana Ops",
      sn: "Ops",
      mail: "dana@example.org",
      userPassword: "dana-password",
    });
    await admin.add("cn=cloud-admins,ou=groups,dc=example,dc=org", {
      objectClass: ["groupOfNames"],
      cn: "cloud-admins",
      member: ["uid=dana,ou=people,dc=example,dc=org"],
    });
    await admin.unbind();

    // The compose config as Archway reads it in its container, pointed at this slapd.
    const compose = readFileSync("config/archway.compose.yaml", "utf8")
      .replace("ldap://openldap:1389", url)
      .replaceAll("/run/secrets/", `${dir}/`);
    writeFileSync(join(dir, "archway.yaml"), compose);
    for (const key of ["archway_shadow_password_key", "archway_session_key"]) {
      writeFileSync(join(dir, key), randomBytes(32).toString("base64"));
    }
    mkdirSync(join(dir, "policies"));
    cpSync("config/clouds.d", join(dir, "clouds.d"), { recursive: true });
    const io = captureIO({ ARCHWAY_LDAP_BIND_PASSWORD: password });
    expect(await runCli(["identity", "lookup", "corp-ldap", "dana", "--config", join(dir, "archway.yaml")], io)).toBe(
      0,
    );
    expect(io.stdout()).toMatch(/username: +dana/);
    expect(io.stdout()).toMatch(/groups: +cloud-admins/);
  }, 60_000);
});
