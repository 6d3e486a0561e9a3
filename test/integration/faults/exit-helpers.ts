import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { parse, stringify } from "yaml";
import { repoRoot } from "../../env/endpoints.js";

/** A TCP server on loopback that accepts connections and never answers (a hanging cloud). */
export async function hangingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Edits a deployment's config file in place. */
export function editConfig(file: string, edit: (config: Record<string, unknown>) => void): void {
  const config = parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  edit(config);
  writeFileSync(file, stringify(config));
}

/** A built `archway` process (`node dist/main.js`), controlled by its PID only. */
export interface ArchwayProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or 128 + signal) and how long after `since` it came. */
  exit: Promise<{ code: number; at: number }>;
  /** Resolves once the output matches `pattern`, or rejects when the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

const started = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** Spawns `node dist/main.js ...args` from the repository root (run `npm run build` first). */
export function archway(args: string[]): ArchwayProcess {
  const child = spawn(process.execPath, ["dist/main.js", ...args], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.add(child);
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exit = new Promise<{ code: number; at: number }>((resolve) =>
    child.once("exit", (code, signal) => {
      started.delete(child);
      resolve({ code: code ?? (signal ? 128 + (signal === "SIGKILL" ? 9 : 15) : -1), at: Date.now() });
    }),
  );
  return {
    child,
    output: () => output,
    exit,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    waitFor: (pattern, ms = 90_000) =>
      new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`no ${pattern} after ${ms} ms:\n${output}`));
        }, ms);
        const poll = setInterval(() => {
          if (pattern.test(output)) {
            clearInterval(poll);
            clearTimeout(deadline);
            resolve();
          }
        }, 50);
        void exit.then(() => {
          setTimeout(() => {
            clearInterval(poll);
            clearTimeout(deadline);
            if (pattern.test(output)) resolve();
            else reject(new Error(`exited before ${pattern}:\n${output}`));
          }, 100);
        });
      }),
  };
}

/** Kills what is still running (by PID), for afterAll. */
export function killAll(): void {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
