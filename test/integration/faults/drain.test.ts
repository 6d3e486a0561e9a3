import { copyFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deployment, writeDeployment } from "../sync/deployment.js";
import { type ArchwayProcess, archway, editConfig, killAll } from "./exit-helpers.js";

// Issue 23, items 4 and 5: `archway serve` (the built CLI, `npm run build` first) on the test environment's Redis.
// Slow request bodies stand in for long requests: the handler waits for the body, so the request is in flight for
// as long as the client wants. Bounds are coarse: seconds against the tens the bugs took.
let dep: Deployment;
let drainConfig: string;

beforeAll(async () => {
  dep = await writeDeployment({ people: 1 });
  drainConfig = join(dep.dir, "drain.yaml");
  copyFileSync(dep.configFile, drainConfig);
  editConfig(drainConfig, (c) => {
    c.shutdown = { drainSeconds: 3 };
  });
}, 120_000);

afterAll(async () => {
  killAll();
  await dep?.remove();
}, 120_000);

async function serve(config: string): Promise<{ proc: ArchwayProcess; port: number }> {
  const proc = archway(["serve", "--config", config, "--port", "0"]);
  await proc.waitFor(/Archway listening on http:\/\/127\.0\.0\.1:\d+/);
  const port = Number(/Archway listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.output())?.[1]);
  return { proc, port };
}

/** A POST whose body stops after `sent` of its `length` bytes; `finish` sends the rest. */
function slowPost(port: number, body: string): { socket: Socket; finish(): void; answer: Promise<string> } {
  const socket = connect(port, "127.0.0.1");
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /v3/auth/tokens HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  let received = "";
  socket.on("data", (d: Buffer) => {
    received += d.toString();
  });
  const answer = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(received));
    socket.on("error", () => resolve(received));
  });
  return { socket, finish: () => socket.write(body.slice(half)), answer };
}

describe("archway serve stops within a bound", () => {
  it("exits non-zero, and soon, when its port is in use (it used to keep running without listening)", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const port = (taken.address() as { port: number }).port;
    try {
      const started = Date.now();
      const proc = archway(["serve", "--config", dep.configFile, "--port", String(port)]);
      const { code, at } = await proc.exit;
      expect(code).toBe(1);
      expect(proc.output()).toContain("EADDRINUSE");
      // The process start is most of it; the bug was forever.
      expect(at - started).toBeLessThan(30_000);
    } finally {
      taken.close();
    }
  }, 60_000);

  it("an idle server exits 0 at once on SIGTERM, even with a kept-alive connection open", async () => {
    const { proc, port } = await serve(dep.configFile);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: "keep-alive" } })).status).toBe(
      200,
    );
    const signalled = Date.now();
    proc.kill("SIGTERM");
    const { code, at } = await proc.exit;
    expect(code).toBe(0);
    // It took 19.4 s before; the default drain is 30 s, and an idle server has nothing to drain.
    expect(at - signalled).toBeLessThan(3_000);
  }, 60_000);

  it("drains: a request finished within shutdown.drainSeconds is answered, one still running at the deadline gets a 503", async () => {
    const { proc, port } = await serve(drainConfig);
    const body = JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { name: "x" } } } } });
    const inTime = slowPost(port, body);
    const tooLate = slowPost(port, body);
    // Both requests are in flight (headers read, bodies half sent) before the signal.
    await new Promise((r) => setTimeout(r, 500));
    const signalled = Date.now();
    proc.kill("SIGTERM");
    await proc.waitFor(/shutting down/, 10_000);
    inTime.finish();
    const answered = await inTime.answer;
    expect(answered).toMatch(/^HTTP\/1\.1 (\d{3})/);
    expect(answered).not.toMatch(/^HTTP\/1\.1 503/);
    // The other never finishes its body: at the 3 s deadline it gets a 503 it can retry elsewhere, not a cut.
    const late = await tooLate.answer;
    const lateAt = Date.now();
    expect(late).toMatch(/^HTTP\/1\.1 503/);
    expect(late.toLowerCase()).toContain("retry-after:");
    expect(late).toContain("shutting_down");
    expect(lateAt - signalled).toBeGreaterThanOrEqual(2_000);
    expect(lateAt - signalled).toBeLessThan(10_000);
    const { code } = await proc.exit;
    expect(code).toBe(0);
  }, 60_000);
});
