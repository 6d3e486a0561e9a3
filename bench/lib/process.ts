import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** A server process started for a benchmark; `stop` ends it (and only it) by its PID. */
export interface BenchServer {
  name: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Spawns a server and waits until a line of its output matches `ready` (whose first group is the URL).
 * Each server runs in its own process so the load generator never shares an event loop with it.
 */
export async function spawnServer(
  name: string,
  command: string,
  args: string[],
  ready: RegExp,
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<BenchServer> {
  const child: ChildProcess = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready in time:\n${output}`)),
      opts.timeoutMs ?? 30_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${output}`));
    });
  });
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return {
    name,
    url,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await once(child, "exit");
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a process to its end (stderr passed through, for progress lines) and returns the last line it printed on
 * stdout: a child that measures itself (CPU, peak RSS) reports there, as JSON.
 */
export async function runChild(command: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], cwd: opts.cwd });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const [code] = (await once(child, "close")) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${code}:\n${out.slice(-2000)}`);
  return out.trim().split("\n").pop() ?? "";
}
