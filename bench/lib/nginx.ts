import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A Debian nginx started for a benchmark from its own temp directory; `stop` ends it by its PID file. */
export interface BenchNginx {
  url: string;
  pid: number;
  /** The one worker process (it does the work the master only supervises); the master's PID if unknown. */
  workerPid: number;
  stop(): Promise<void>;
}

/**
 * Starts `/usr/sbin/nginx` in the foreground (one worker, no access log) listening on `127.0.0.1:port` with
 * `http` holding the `server`/`upstream` blocks. Config, PID file, error log and temp paths live in a fresh temp
 * directory, so nothing of the system's nginx is touched; resolves once it answers HTTP.
 */
export async function startNginx(name: string, port: number, http: string): Promise<BenchNginx> {
  const dir = mkdtempSync(join(tmpdir(), `archway-bench-${name}-`));
  const temp = ["body", "proxy", "fastcgi", "uwsgi", "scgi"];
  for (const t of temp) mkdirSync(join(dir, t));
  const conf = join(dir, "nginx.conf");
  const pidFile = join(dir, "nginx.pid");
  writeFileSync(
    conf,
    // `user root` only because the temp directory is private to root (mkdtemp makes it 0700).
    `${process.getuid?.() === 0 ? "user root root;\n" : ""}worker_processes 1;\npid ${pidFile};\n` +
      `error_log ${join(dir, "error.log")} warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n${temp.map((t) => `  ${t === "body" ? "client_body" : t}_temp_path ${join(dir, t)};\n`).join("")}` +
      `${http}\n}\n`,
  );
  const child: ChildProcess = spawn(
    "/usr/sbin/nginx",
    ["-p", dir, "-c", conf, "-e", join(dir, "error.log"), "-g", "daemon off;"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      cleanup();
      throw new Error(`nginx ${name} exited with ${child.exitCode}: ${stderr}`);
    }
    const up = await fetch(url).then(
      async (r) => {
        await r.arrayBuffer();
        return true;
      },
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      cleanup();
      throw new Error(`nginx ${name} did not answer on ${url}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  let workerPid = pid;
  try {
    workerPid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0]) || pid;
  } catch {
    // No /proc children list here: CPU figures then show the master's (near zero) time.
  }
  return {
    url,
    pid,
    workerPid,
    async stop() {
      if (child.exitCode === null) {
        // The master's PID from its own PID file (the process we spawned): SIGQUIT would wait for idle
        // keep-alive clients, SIGTERM ends it now.
        process.kill(pid, "SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await once(child, "exit");
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}
