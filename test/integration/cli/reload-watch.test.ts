import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashPassword } from "../../../src/identity/index.js";

// A real `archway serve` on loopback takes changed files without a restart or a signal: a cloud file added to
// clouds.d, a policy changed, and a broken policy refused with the one in use kept.
let child: ChildProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), "archway-watch-"));
afterAll(async () => {
  if (child?.pid && child.exitCode === null) {
    child.kill("SIGKILL");
    await once(child, "exit");
  }
  rmSync(dir, { recursive: true, force: true });
});

const policy = (project: string) =>
  `apiVersion: archway.dev/v1\nkind: AccessPolicy\nmetadata: { name: devs }\nspec:\n  subjects: { groups: { anyOf: [devs] } }\n  clouds: { labels: { team: devs } }\n  grants: [{ project: ${project}, roles: [member] }]\n`;
const cloud = (id: string, port: number) =>
  `clouds:\n  - { id: ${id}, authUrl: "http://127.0.0.1:${port}/v3", labels: { team: devs }, admin: { username: a, password: b } }\n`;

describe("archway serve reloads on file change", () => {
  it("takes a new clouds.d file and a changed policy at once, and keeps the policy in use when a file is broken", async () => {
    mkdirSync(join(dir, "policies"));
    mkdirSync(join(dir, "clouds.d"));
    writeFileSync(join(dir, "policies", "devs.yaml"), policy("first"));
    writeFileSync(join(dir, "clouds.d", "c-1.yaml"), cloud("c-1", 9));
    writeFileSync(
      join(dir, "archway.yaml"),
      `deploymentId: reload-it\nlisten: { host: 127.0.0.1, port: 0 }\npoliciesDir: policies\ncloudsDir: clouds.d\nlog: { level: info }\n` +
        `reload: { debounceMs: 200 }\n` +
        `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n`,
    );
    child = spawn(
      process.execPath,
      ["--import", "tsx", "src/main.ts", "serve", "--config", join(dir, "archway.yaml")],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      output += d.toString();
    });
    const base = await new Promise<string>((resolve, reject) => {
      const poll = setInterval(() => {
        const match = /Archway listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1]) {
          clearInterval(poll);
          resolve(match[1]);
        }
      }, 50);
      child?.once("exit", (code) => {
        clearInterval(poll);
        reject(new Error(`exited with ${code}:\n${output}`));
      });
    });

    // Projects alice holds, as the facade lists them; `<cloud>:<project>` finds the project in one cloud.
    const projects = async (name?: string) => {
      const login = await fetch(`${base}/v3/auth/tokens?nocatalog`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } } },
        }),
      });
      const token = login.headers.get("x-subject-token") ?? "";
      const query = name ? `?name=${encodeURIComponent(name)}` : "";
      const list = (await (
        await fetch(`${base}/v3/auth/projects${query}`, { headers: { "x-auth-token": token } })
      ).json()) as {
        projects: { name: string }[];
      };
      return list.projects.map((p) => p.name);
    };
    // Coarse: a reload follows a change within a second or so; allow ten.
    const eventually = async (check: () => Promise<boolean>, what: string) => {
      for (let i = 0; i < 100; i++) {
        if (await check()) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${what} did not happen:\n${output}`);
    };
    await eventually(async () => /watching configuration files/.test(output), "the watch");
    expect(await projects()).toEqual(["first"]);
    expect(await projects("c-2:first")).toEqual([]);

    // A new site: one file dropped into clouds.d. No signal, no restart.
    writeFileSync(join(dir, "clouds.d", "c-2.yaml"), cloud("c-2", 10));
    await eventually(async () => (await projects("c-2:first")).length === 1, "the new cloud");
    expect(output).toMatch(/"added":\["c-2"\].*clouds reloaded/);

    // A policy changed: the new grant is served.
    writeFileSync(join(dir, "policies", "devs.yaml"), policy("second"));
    await eventually(async () => JSON.stringify(await projects()) === '["second"]', "the changed policy");

    // A broken policy: refused, logged, and the one in use stays.
    const before = output.length;
    writeFileSync(join(dir, "policies", "devs.yaml"), "apiVersion: archway.dev/v1\nkind: AccessPolicy\nspec: [\n");
    await eventually(async () => /policies not reloaded/.test(output.slice(before)), "the refusal");
    expect(await projects()).toEqual(["second"]);
    expect((await projects("c-2:second")).length).toBe(1);

    // A cloud file that breaks the config: the whole reload is refused, the clouds in use stay.
    writeFileSync(join(dir, "policies", "devs.yaml"), policy("second"));
    writeFileSync(join(dir, "clouds.d", "c-3.yaml"), "clouds:\n  - { id: C_3 }\n");
    await eventually(async () => /configuration not reloaded/.test(output), "the refused cloud file");
    expect((await projects("c-2:second")).length).toBe(1);

    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  }, 90_000);
});
