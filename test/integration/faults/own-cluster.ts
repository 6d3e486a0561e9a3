import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Cluster } from "ioredis";
import { repoRoot } from "../../env/endpoints.js";
import { freePort } from "./own-redis.js";

const run = promisify(execFile);
const SCRIPT = "test/env/services/redis-cluster.sh";

/**
 * A 3-master Redis Cluster of the test's own (never the shared one: this one loses a master), started by the test
 * env's own service script on other ports and in a temp folder; masters are killed by the PID in their pid file.
 */
export interface OwnCluster {
  nodes: { host: string; port: number }[];
  /** The node (1-based) whose slots hold `key`. */
  nodeOf(key: string): Promise<number>;
  /** SIGKILL of node `n`: the master is lost (no replica takes over). */
  kill(n: number): Promise<void>;
  /** Starts node `n` again with its nodes.conf (and its append-only file with `persist`): it rejoins. */
  start(n: number): Promise<void>;
  /** True when every node reports cluster_state:ok. */
  ok(): Promise<boolean>;
  /** Stops every node and removes the folder. */
  close(): Promise<void>;
}

/** Three free loopback ports whose cluster bus ports (port + 10000) are free too. */
async function clusterPorts(): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort();
    if (p + 10_000 > 65_535 || ports.includes(p)) continue;
    if ((await freePortAt(p + 10_000)) && (await freePortAt(p))) ports.push(p);
  }
  return ports;
}

async function freePortAt(port: number): Promise<boolean> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** Starts the cluster (`persist`: append-only file on, so a restarted master comes back with its data). */
export async function startOwnCluster(opts: { persist?: boolean } = {}): Promise<OwnCluster> {
  const ports = await clusterPorts();
  const dir = mkdtempSync(join(tmpdir(), "archway-fault-cluster-"));
  const env = {
    ...process.env,
    ARCHWAY_TESTENV_DIR: dir,
    REDIS_CLUSTER_PORTS: ports.join(" "),
    REDIS_CLUSTER_NAME: "cluster",
    REDIS_CLUSTER_PERSIST: opts.persist ? "1" : "0",
  };
  const script = (...args: string[]) => run("bash", [SCRIPT, ...args], { cwd: repoRoot, env, timeout: 60_000 });
  await script("up");
  const nodes = ports.map((port) => ({ host: "127.0.0.1", port }));
  const pidOf = (n: number) => Number(readFileSync(join(dir, "pids", `cluster-${n}.pid`), "utf8").trim());
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  return {
    nodes,
    async nodeOf(key) {
      const c = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
      try {
        const slot = Number(await c.cluster("KEYSLOT", key));
        const owner = (await c.cluster("SLOTS")).find(([from, to]) => slot >= from && slot <= to);
        return ports.indexOf(owner?.[2]?.[1] ?? -1) + 1;
      } finally {
        c.disconnect();
      }
    },
    async kill(n) {
      const pid = pidOf(n);
      process.kill(pid, "SIGKILL");
      const until = Date.now() + 10_000;
      while (alive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    },
    async start(n) {
      await script("start-node", String(n));
    },
    async ok() {
      return script("status").then(
        ({ stdout }) => stdout.includes("cluster_state:ok"),
        () => false,
      );
    },
    async close() {
      await script("down").catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
