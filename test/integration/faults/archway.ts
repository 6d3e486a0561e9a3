import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildGateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { createHttpMetrics, type RunningServer, startServer } from "../../../src/http/index.js";
import { hashPassword } from "../../../src/identity/index.js";
import { registerSyncMetrics } from "../../../src/sync/index.js";
import { captureIO } from "../../helpers/io.js";

/** An in-process Archway (as `archway serve` builds it) on a given Redis, its log lines kept for assertions. */
export interface FaultArchway {
  url: string;
  runtime: Runtime;
  password: string;
  clientId: string;
  clientSecret: string;
  /** Every log line so far, parsed. */
  logs(): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Starts Archway with a static user `alice`, an OAuth client allowed the password grant, no clouds (nothing here
 * needs one), strong random secrets and the Redis store at `redis`: a URL, or the nodes of a Redis Cluster.
 */
export async function startFaultArchway(
  redis: string | { nodes: { host: string; port: number }[] },
): Promise<FaultArchway> {
  const store =
    typeof redis === "string"
      ? `{ type: redis, url: "${redis}", keyPrefix: "faults:", commandTimeoutMs: 500 }`
      : `{ type: redis-cluster, nodes: ${JSON.stringify(redis.nodes)}, keyPrefix: "faults:", commandTimeoutMs: 500 }`;
  const dir = mkdtempSync(join(tmpdir(), "archway-faults-"));
  const password = "alice-faults-pw";
  const clientSecret = randomBytes(32).toString("base64url");
  mkdirSync(join(dir, "policies"));
  writeFileSync(
    join(dir, "archway.yaml"),
    `deploymentId: faults\nlisten: { host: 127.0.0.1, port: 0 }\npublicUrl: http://127.0.0.1:1\n` +
      `secrets: { shadowPasswordKey: "${randomBytes(32).toString("base64url")}", storeKey: "${randomBytes(32).toString("base64url")}" }\n` +
      `store: ${store}\n` +
      `identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n        - { username: alice, passwordHash: "${await hashPassword(password, { N: 1024 })}", groups: [devs] }\n` +
      `idp:\n  clients:\n    - { id: faults-cli, secret: "${clientSecret}", grants: [password] }\n` +
      `policiesDir: policies\nlog: { level: info }\n`,
  );
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env), { logDestination: destination });
  const gateway = buildGateway(runtime);
  const metrics = createHttpMetrics();
  registerSyncMetrics(metrics.registry, { store: runtime.store, cloudIds: () => ["cloud-x"] });
  const { app } = gatewayApp(runtime, gateway, metrics);
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port: 0, log: runtime.log });
  return {
    url: server.url,
    runtime,
    password,
    clientId: "faults-cli",
    clientSecret,
    logs: () =>
      lines.flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    async close() {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One answer of Archway during a fault: its status, how long it took, its error code and `Retry-After`. */
export interface Answer {
  status: number;
  ms: number;
  /** Keystone's shape: the Archway code riding along as `error.identifier`. */
  code?: string;
  retryAfter: string | null;
}

/** alice's password sign-in at the /v3 facade, bounded at 20 s; `token` is empty when refused. */
export async function login(a: FaultArchway): Promise<Answer & { token: string }> {
  const start = performance.now();
  const res = await fetch(`${a.url}/v3/auth/tokens?nocatalog`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      auth: { identity: { methods: ["password"], password: { user: { name: "alice", password: a.password } } } },
    }),
    signal: AbortSignal.timeout(20_000),
  });
  return { ...(await keystoneAnswer(res, start)), token: res.headers.get("x-subject-token") ?? "" };
}

/** An {@link Answer} in Keystone's error shape, from a reply and when its request started. */
export async function keystoneAnswer(res: Response, start: number): Promise<Answer> {
  const body = (await res.json().catch(() => ({}))) as { error?: { identifier?: string } };
  return {
    status: res.status,
    ms: performance.now() - start,
    code: body.error?.identifier,
    retryAfter: res.headers.get("retry-after"),
  };
}
