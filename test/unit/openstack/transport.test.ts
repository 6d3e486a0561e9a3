import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { Limiter, OpenStackError, type RequestEvent, Transport } from "../../../src/openstack/index.js";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function serve(handler: Handler): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function transport(events: RequestEvent[], limiter = new Limiter(4)) {
  return new Transport({
    cloudId: "c1",
    service: "keystone",
    limiter,
    timeoutMs: 2_000,
    retry: { attempts: 3, baseMs: 1, maxMs: 5 },
    onRequest: (e) => events.push(e),
    sleep: async () => {},
  });
}

describe("Transport", () => {
  it("retries an idempotent call on 503 and validates the reply", async () => {
    const url = await serve((_req, res, n) => {
      res.writeHead(n < 3 ? 503 : 200, { "content-type": "application/json" });
      res.end(JSON.stringify(n < 3 ? { error: { message: "busy" } } : { ok: true }));
    });
    const events: RequestEvent[] = [];
    const r = await transport(events).call({
      operation: "t.get",
      method: "GET",
      url,
      schema: z.object({ ok: z.boolean() }),
    });
    expect(r.data).toEqual({ ok: true });
    expect(events.map((e) => e.status)).toEqual([503, 503, 200]);
  });

  it("does not retry a POST on 503 and reports cloud, operation and status", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const events: RequestEvent[] = [];
    const err = await transport(events)
      .call({ operation: "t.create", method: "POST", url, body: {} })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackError);
    expect(err).toMatchObject({ code: "cloud_unavailable", cloudId: "c1", operation: "t.create", upstreamStatus: 503 });
    expect(events).toHaveLength(1);
  });

  it("retries a reset connection for GET and gives up with cloud_unavailable", async () => {
    const url = await serve((req) => req.socket.destroy());
    const events: RequestEvent[] = [];
    const err = await transport(events)
      .call({ operation: "t.get", method: "GET", url })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "cloud_unavailable", status: 503, upstreamStatus: 0 });
    expect(events).toHaveLength(3);
  });

  it("maps 404 and 409 to stable codes and rejects a reply that does not match its schema", async () => {
    const url = await serve((req, res) => {
      const status = req.url === "/missing" ? 404 : req.url === "/dup" ? 409 : 200;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify({ wrong: 1 }));
    });
    const t = transport([]);
    await expect(t.call({ operation: "t", method: "GET", url: `${url}/missing` })).rejects.toMatchObject({
      code: "keystone_not_found",
    });
    await expect(t.call({ operation: "t", method: "PUT", url: `${url}/dup` })).rejects.toMatchObject({
      code: "keystone_conflict",
    });
    await expect(
      t.call({ operation: "t", method: "GET", url, schema: z.object({ ok: z.boolean() }) }),
    ).rejects.toMatchObject({ code: "keystone_invalid_reply" });
  });

  it("keeps at most the limiter's count of calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const url = await serve((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end();
      }, 5);
    });
    const t = transport([], new Limiter(2));
    await Promise.all(Array.from({ length: 8 }, () => t.call({ operation: "t", method: "GET", url })));
    expect(peak).toBeLessThanOrEqual(2);
  });
  it("gives up on a call with no reply within the timeout, retries it, and says so", async () => {
    // Headers sent, body never finished: the timeout covers reading the reply, not only its start.
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"ok":');
    });
    const events: RequestEvent[] = [];
    const t = new Transport({
      cloudId: "c1",
      service: "keystone",
      limiter: new Limiter(2),
      timeoutMs: 100,
      retry: { attempts: 2, baseMs: 1, maxMs: 5 },
      onRequest: (e) => events.push(e),
      sleep: async () => {},
    });
    await expect(t.call({ operation: "t.get", method: "GET", url })).rejects.toMatchObject({
      code: "cloud_unavailable",
      message: expect.stringContaining("no reply within 100 ms after 2 attempts"),
    });
    expect(events.map((e) => e.status)).toEqual([0, 0]);
  });
});
