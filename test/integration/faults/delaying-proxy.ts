import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * How the proxy treats the next requests: pass them on; hold each answer `ms` before sending it; send each answer
 * `chunkBytes` at a time, one chunk every `everyMs`; or accept and never answer (`hang`).
 */
export type DelayMode =
  | { kind: "pass" }
  | { kind: "delay"; ms: number }
  | { kind: "trickle"; chunkBytes: number; everyMs: number }
  | { kind: "hang" };

/** A loopback HTTP proxy in front of one real server, degraded on command, counting its sockets. */
export interface DelayingProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the target's origin. */
  origin: string;
  setMode(mode: DelayMode): void;
  /** Client sockets open now (those Archway holds to this "cloud"). */
  openSockets(): number;
  /** The most sockets open at once since the last {@link resetPeak}. */
  peakSockets(): number;
  resetPeak(): void;
  /** Requests seen so far, as `METHOD /path?query`. */
  requests(): string[];
  close(): Promise<void>;
}

/**
 * Starts a proxy on a free loopback port in front of `target` (an origin such as `http://127.0.0.1:15002`).
 * `rewrite` pairs are replaced in JSON answers (a Keystone's catalog then lists another proxy in place of its
 * nova), the length fixed. Requests go upstream one connection each, so the upstream never sees the proxy's pool.
 */
export async function startDelayingProxy(
  target: string,
  opts: { rewrite?: [from: string, to: string][] } = {},
): Promise<DelayingProxy> {
  let mode: DelayMode = { kind: "pass" };
  const sockets = new Set<Socket>();
  const seen: string[] = [];
  let peak = 0;
  const upstream = new URL(target);

  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const now = mode;
    if (now.kind === "hang") {
      req.resume(); // read the body so the client is not blocked writing it, and never answer
      return;
    }
    forward(req, res, now);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on("close", () => sockets.delete(socket));
    // Node's server keeps a half-closed socket while an answer is pending (a hung one never comes): the client
    // closed it, so this counts it closed too, as a bare hanging TCP server would see it.
    socket.on("end", () => socket.destroy());
  });

  function forward(req: IncomingMessage, res: ServerResponse, now: DelayMode) {
    const headers = { ...req.headers, host: upstream.host };
    delete headers["accept-encoding"]; // answers must stay readable for the rewrite
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent: false },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          let body = Buffer.concat(chunks);
          const json = (answer.headers["content-type"] ?? "").includes("json");
          if (json && opts.rewrite?.length) {
            let text = body.toString("utf8");
            for (const [from, to] of opts.rewrite) text = text.split(from).join(to);
            body = Buffer.from(text);
          }
          const outHeaders = { ...answer.headers };
          delete outHeaders["transfer-encoding"];
          delete outHeaders.connection;
          outHeaders["content-length"] = String(body.length);
          void send(res, answer.statusCode ?? 502, outHeaders, body, now);
        });
        answer.on("error", () => res.destroy());
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  }

  async function send(
    res: ServerResponse,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    now: DelayMode,
  ) {
    if (now.kind === "delay") await sleep(now.ms);
    if (res.destroyed) return;
    res.writeHead(status, headers);
    if (now.kind !== "trickle") return void res.end(body);
    for (let at = 0; at < body.length; at += now.chunkBytes) {
      if (res.destroyed) return;
      res.write(body.subarray(at, at + now.chunkBytes));
      await sleep(now.everyMs);
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    setMode(next) {
      mode = next;
    },
    openSockets: () => sockets.size,
    peakSockets: () => peak,
    resetPeak() {
      peak = sockets.size;
    },
    requests: () => [...seen],
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
