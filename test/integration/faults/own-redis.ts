import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A redis-server of the test's own, on a free loopback port with its own folder, for injecting faults (kill,
 * stop, restart with or without persistence). Never the shared test-env Redis: other helpers' tests use that.
 */
export interface OwnRedis {
  port: number;
  url: string;
  /** The current server's PID. */
  readonly pid: number;
  /** SIGKILL: the connection closes, nothing is saved. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open and nothing answers (a hung Redis). */
  stop(): void;
  /** SIGCONT after {@link stop}. */
  cont(): void;
  /** Starts the server again on the same port and folder; `persist` chooses AOF on or everything off. */
  start(opts?: { persist?: boolean }): Promise<void>;
  /** Ends the server (by its PID) and removes its folder. */
  close(): Promise<void>;
}

/** A free loopback port (the kernel's pick, released for the server to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Starts a redis-server; `persist: false` (default) is `--save "" --appendonly no`. `args` are extra server
 * arguments (`--rename-command CONFIG ""` plays a managed Redis that refuses CONFIG).
 */
export async function startOwnRedis(opts: { persist?: boolean; args?: string[] } = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "archway-fault-redis-"));
  let child: ChildProcess | undefined;

  const start = async (o: { persist?: boolean } = opts) => {
    const persistence = o.persist ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
    child = spawn(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        ...persistence,
        "--logfile",
        "",
        ...(opts.args ?? []),
      ],
      { stdio: "ignore" },
    );
    await waitForPort(port, 10_000);
  };
  const signal = (sig: NodeJS.Signals) => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, sig);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, "exit");
    signal("SIGKILL");
    await exited;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid ?? 0;
    },
    kill,
    stop: () => signal("SIGSTOP"),
    cont: () => signal("SIGCONT"),
    start,
    async close() {
      signal("SIGCONT");
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${ms} ms`);
}
