import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";

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
});
