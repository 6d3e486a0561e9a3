import { createServer, type Server, type Socket } from "node:net";

/** A TCP server on 127.0.0.1 that accepts every connection and never answers: a cloud that hangs. */
export interface HangingServer {
  port: number;
  url: string;
  /** Connections accepted and still open. */
  openSockets(): number;
  /** Connections accepted since the start. */
  accepted(): number;
  /** Closes every connection it holds, then the listener. */
  stop(): Promise<void>;
}

/** Starts a {@link HangingServer} on a free loopback port. */
export async function startHangingServer(): Promise<HangingServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    // Read and drop whatever arrives, so the client's request is fully sent and then waits.
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    openSockets: () => sockets.size,
    accepted: () => accepted,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port nothing listens on (taken and released at once): a cloud that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
