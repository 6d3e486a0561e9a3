import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { hashPassword } from "../../../src/identity/index.js";

// The README's first command: `npm start` on a fresh checkout runs the embedded default.
const children: ChildProcess[] = [];

afterEach(() => {
  // Each child leads its own process group: `npm start` runs node under a shell, so end the whole group.
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
});

function start(cmd: string, args: string[]): { child: ChildProcess; url: Promise<string>; output: () => string } {
  const child = spawn(cmd, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
    detached: true,
  });
  children.push(child);
  let output = "";
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Archway listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)));
  });
  return { child, url, output: () => output };
}

describe("archway serve", () => {
  it("npm start prints the URL; /healthz answers 200 and /metrics shows the request histogram", async () => {
    const { url } = start("npm", ["start", "--silent", "--", "--port", "0"]);
    const base = await url;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/archway_http_request_duration_seconds_bucket\{.*route="\/healthz",status="200"\}/);
  }, 120_000);

  it("stops gracefully on SIGTERM: stops accepting, drains, exits 0", async () => {
    const { child, url, output } = start(process.execPath, [
      "dist/main.js",
      "serve",
      "--config",
      "config/archway.example.yaml",
      "--port",
      "0",
    ]);
    const base = await url;
    // A keep-alive connection that is idle must not hold the shutdown up.
    expect((await fetch(`${base}/healthz`, { headers: { connection: "keep-alive" } })).status).toBe(200);
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
    expect(output()).toMatch(/"signal":"SIGTERM".*shutting down/);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 60_000);

  it("reloads the policy files on SIGHUP, and keeps the policies in use when the files have problems", async () => {
    const dir = mkdtempSync(join(tmpdir(), "archway-reload-"));
    try {
      mkdirSync(join(dir, "policies"));
      const policy = (project: string) =>
        `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  grants: [{ project: ${project}, roles: [member] }]\n`;
      writeFileSync(join(dir, "policies", "devs.yaml"), policy("first"));
      writeFileSync(
        join(dir, "archway.yaml"),
        `deploymentId: serve-it\nlisten: { host: 127.0.0.1, port: 0 }\npoliciesDir: policies\nlog: { level: info }\n` +
          `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n` +
          `clouds:\n  - { id: c-1, authUrl: "http://127.0.0.1:9/v3", admin: { username: a, password: b } }\n`,
      );
      const { child, url, output } = start(process.execPath, [
        "dist/main.js",
        "serve",
        "--config",
        join(dir, "archway.yaml"),
      ]);
      const base = await url;
      const projects = async () => {
        const login = await fetch(`${base}/v3/auth/tokens?nocatalog`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } } },
          }),
        });
        const token = login.headers.get("x-subject-token") ?? "";
        const list = (await (
          await fetch(`${base}/v3/auth/projects`, { headers: { "x-auth-token": token } })
        ).json()) as {
          projects: { name: string }[];
        };
        return list.projects.map((p) => p.name);
      };
      const waitFor = async (text: RegExp) => {
        for (let i = 0; i < 100 && !text.test(output()); i++) await new Promise((r) => setTimeout(r, 50));
        expect(output()).toMatch(text);
      };
      expect(await projects()).toEqual(["first"]);

      writeFileSync(join(dir, "policies", "devs.yaml"), policy("second"));
      child.kill("SIGHUP");
      await waitFor(/policies reloaded/);
      expect(await projects()).toEqual(["second"]);

      writeFileSync(join(dir, "policies", "devs.yaml"), "apiVersion: archway.dev/v1\nkind: AccessPolicy\nspec: [\n");
      child.kill("SIGHUP");
      await waitFor(/policies not reloaded/);
      expect(await projects()).toEqual(["second"]);
      child.kill("SIGTERM");
      await once(child, "exit");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
