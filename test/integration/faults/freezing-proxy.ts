import { connect, createServer, type Socket } from "node:net";

/** A loopback TCP proxy whose open connections can be frozen: see {@link startFreezingProxy}. */
export interface FreezingProxy {
  port: number;
  /**
   * Every connection open now stops carrying bytes both ways and stays open: each end sees a peer that went
   * silent without a FIN or RST (a half-open connection, as a dropped NAT or firewall entry leaves). Connections
   * made afterwards pass.
   */
  freeze(): void;
  /** Connections opened through the proxy so far. */
  connections(): number;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port in front of `127.0.0.1:<targetPort>`. */
export async function startFreezingProxy(targetPort: number): Promise<FreezingProxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket; frozen: boolean }>();
  let opened = 0;
  const server = createServer((client) => {
    opened++;
    const upstream = connect(targetPort, "127.0.0.1");
    const pair = { client, upstream, frozen: false };
    pairs.add(pair);
    client.on("data", (d: Buffer) => {
      if (!pair.frozen) upstream.write(d);
    });
    upstream.on("data", (d: Buffer) => {
      if (!pair.frozen) client.write(d);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    // A frozen pair keeps its other end open even when one side closes: silence, not a reset.
    client.on("close", () => (pair.frozen ? upstream.destroy() : end()));
    upstream.on("close", () => (pair.frozen ? undefined : end()));
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("freezing proxy: no port");
  return {
    port: address.port,
    freeze() {
      for (const p of pairs) p.frozen = true;
    },
    connections: () => opened,
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
