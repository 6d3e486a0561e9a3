import * as net from "node:net";
import type { Duplex } from "node:stream";
import * as tls from "node:tls";

/** How the consumer reaches a server: a plain or TLS connection, and the StartTLS upgrade of a plain one. */
export interface SyncTransport {
  /** A connected socket to `url` (`ldap://` plain, `ldaps://` TLS from the first byte). */
  connect(url: URL, timeoutMs: number): Promise<Duplex>;
  /** The same connection under TLS, once the server agreed to StartTLS. */
  startTls(socket: Duplex, url: URL, timeoutMs: number): Promise<Duplex>;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

/** Waits for `event`, failing on an error, an early close or `timeoutMs`; the socket is destroyed on failure. */
function ready(socket: net.Socket, event: string, timeoutMs: number, what: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const closed = () => fail(new Error(`${what}: connection closed`));
    const timer = setTimeout(() => fail(new Error(`${what}: no answer in ${timeoutMs} ms`)), timeoutMs);
    socket.once("error", fail);
    socket.once("close", closed);
    socket.once(event, () => {
      clearTimeout(timer);
      socket.off("error", fail);
      socket.off("close", closed);
      // A persistent search is silent for hours: keepalives find a peer that vanished without a FIN.
      socket.setKeepAlive(true, 30_000);
      resolve(socket);
    });
  });
}

/** Node's sockets, with the source's TLS settings (CA, verification); SNI only for host names. */
export function netTransport(tlsOptions: tls.ConnectionOptions): SyncTransport {
  const secure = (url: URL, extra: tls.ConnectionOptions) => {
    const host = hostOf(url);
    return tls.connect({ ...tlsOptions, ...extra, host, ...(net.isIP(host) ? {} : { servername: host }) });
  };
  return {
    connect(url, timeoutMs) {
      const host = hostOf(url);
      if (url.protocol === "ldaps:") {
        const socket = secure(url, { port: Number(url.port || 636) });
        return ready(socket, "secureConnect", timeoutMs, `${url.origin} TLS`);
      }
      const socket = net.connect({ host, port: Number(url.port || 389) });
      return ready(socket, "connect", timeoutMs, url.origin);
    },
    startTls(socket, url, timeoutMs) {
      const upgraded = secure(url, { socket: socket as net.Socket });
      return ready(upgraded, "secureConnect", timeoutMs, `${url.origin} StartTLS`);
    },
  };
}
