import { afterEach, describe, expect, it } from "vitest";
import { SyncConsumer, type SyncEntry } from "../../../../src/identity/ldap/syncrepl/index.js";
import { type FakeSocket, fakeTransport, info, reply, UUID } from "./fake-server.js";

const BIND = 0x60;
const SEARCH = 0x63;
const UNBIND = 0x42;
const EXTENDED = 0x77;

function consumer(opts: { startTls?: boolean; bindDn?: string; refuse?: number } = {}) {
  const fake = fakeTransport();
  fake.refuseNext(opts.refuse ?? 0);
  const events: string[] = [];
  const errors: string[] = [];
  const c = new SyncConsumer(
    {
      urls: ["ldap://127.0.0.1:1389"],
      startTls: opts.startTls ?? false,
      bindDn: opts.bindDn ?? "cn=svc",
      bindPassword: "pw",
      base: "ou=people",
      filter: "(objectClass=inetOrgPerson)",
      attributes: ["entryUUID", "uid"],
      timeoutMs: 1_000,
      transport: fake.transport,
      backoff: { initialMs: 5, maxMs: 20 },
    },
    {
      upsert: (e: SyncEntry, before) => events.push(`${before ? "modify" : "add"} ${e.uuid.slice(0, 1)} ${e.dn}`),
      remove: (uuid, before) => events.push(`remove ${uuid.slice(0, 1)}${before ? "" : " (unknown)"}`),
      refreshed: (i) => events.push(`refreshed ${i.entries}${i.first ? " first" : ""}`),
      error: (err) => errors.push(err.message),
    },
  );
  running.push(c);
  c.start();
  return { c, fake, events, errors };
}

const running: SyncConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

async function until(check: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Binds, then answers the search's initial refresh with `a` and `b`; resolves the socket and the search id. */
async function initialRefresh(fake: ReturnType<typeof fakeTransport>, index = 0) {
  const socket = await fake.connection(index);
  const bind = await socket.next(BIND);
  socket.send(reply.bind(bind.id));
  const search = await socket.next(SEARCH);
  return { socket, search };
}

describe("SyncConsumer (RFC 4533 refreshAndPersist)", () => {
  it("binds, refreshes, then follows changes as they come", async () => {
    const { c, fake, events } = consumer();
    const { socket, search } = await initialRefresh(fake);
    expect(search).toMatchObject({ mode: 3, base: "ou=people" });
    expect(search.cookie).toBeUndefined();
    socket.send(
      reply.entry(search.id, "uid=a,ou=people", "add", UUID.a, { uid: ["a"] }),
      reply.entry(search.id, "uid=b,ou=people", "add", UUID.b, { uid: ["b"] }),
      reply.info(search.id, info.refreshPresent("c1")),
    );
    await until(() => events.includes("refreshed 2 first"), "the refresh");
    expect(c.cookie?.toString()).toBe("c1");
    expect(c.persisting).toBe(true);
    socket.send(
      reply.entry(search.id, "uid=a,ou=people", "modify", UUID.a, { uid: ["a"] }, "c2"),
      reply.entry(search.id, "uid=b,ou=people", "delete", UUID.b, {}, "c3"),
    );
    await until(() => events.length === 5, "the changes");
    expect(events).toEqual([
      "add a uid=a,ou=people",
      "add b uid=b,ou=people",
      "refreshed 2 first",
      "modify a uid=a,ou=people",
      "remove b",
    ]);
    expect(c.cookie?.toString()).toBe("c3");
    expect([...c.content.keys()]).toEqual([UUID.a]);
  });

  it("reconnects after a drop with the last cookie and applies the deletes the server sends", async () => {
    const { fake, events, errors } = consumer();
    const { socket, search } = await initialRefresh(fake);
    socket.send(
      reply.entry(search.id, "uid=a,ou=people", "add", UUID.a),
      reply.entry(search.id, "uid=b,ou=people", "add", UUID.b),
      reply.info(search.id, info.refreshDelete("c1")),
    );
    await until(() => events.includes("refreshed 2 first"), "the refresh");
    socket.destroy();
    const again = await initialRefresh(fake, 1);
    expect(again.search.cookie).toBe("c1");
    expect(errors.join()).toMatch(/closed the connection/);
    again.socket.send(
      reply.info(again.search.id, info.syncIdSet([UUID.b], true)),
      reply.info(again.search.id, info.refreshDelete("c2")),
    );
    await until(() => events.includes("refreshed 1"), "the second refresh");
    expect(events.slice(3)).toEqual(["remove b", "refreshed 1"]);
  });

  it("ends a present phase by removing what the server did not say is there", async () => {
    const { c, fake, events } = consumer();
    const { socket, search } = await initialRefresh(fake);
    socket.send(
      reply.entry(search.id, "uid=a,ou=people", "add", UUID.a),
      reply.entry(search.id, "uid=b,ou=people", "add", UUID.b),
      reply.entry(search.id, "uid=c,ou=people", "add", UUID.c),
      reply.info(search.id, info.refreshPresent("c1")),
    );
    await until(() => events.includes("refreshed 3 first"), "the refresh");
    socket.destroy();
    const again = await initialRefresh(fake, 1);
    again.socket.send(
      reply.entry(again.search.id, "uid=a,ou=people", "present", UUID.a),
      reply.info(again.search.id, info.syncIdSet([UUID.c], false)),
      reply.info(again.search.id, info.refreshPresent("c2")),
    );
    await until(() => events.includes("refreshed 2"), "the present phase");
    expect(events.slice(4)).toEqual(["remove b", "refreshed 2"]);
    expect([...c.content.keys()].sort()).toEqual([UUID.a, UUID.c]);
  });

  it("on e-syncRefreshRequired starts over at once without a cookie, and drops what the full refresh lacks", async () => {
    const { c, fake, events } = consumer();
    const { socket, search } = await initialRefresh(fake);
    socket.send(
      reply.entry(search.id, "uid=a,ou=people", "add", UUID.a),
      reply.entry(search.id, "uid=b,ou=people", "add", UUID.b),
      reply.info(search.id, info.refreshPresent("c1")),
    );
    await until(() => events.includes("refreshed 2 first"), "the refresh");
    socket.destroy();
    const second = await initialRefresh(fake, 1);
    expect(second.search.cookie).toBe("c1");
    second.socket.send(reply.done(second.search.id, 4096, "sessionlog too old"));
    const third = await initialRefresh(fake, 2);
    expect(third.search.cookie).toBeUndefined();
    // A full refresh ends with refreshDelete here: without a cookie, what it left out is gone all the same.
    third.socket.send(
      reply.entry(third.search.id, "uid=a,ou=people", "add", UUID.a),
      reply.info(third.search.id, info.refreshDelete("c9")),
    );
    await until(() => events.includes("refreshed 1"), "the full refresh");
    expect(events.slice(3)).toEqual(["modify a uid=a,ou=people", "remove b", "refreshed 1"]);
    expect(c.cookie?.toString()).toBe("c9");
  });

  it("reports a refused bind and a refused search, and keeps trying with backoff", async () => {
    const { fake, errors } = consumer();
    const first = await fake.connection(0);
    first.send(reply.bind((await first.next(BIND)).id, 49));
    const second = await initialRefresh(fake, 1);
    second.socket.send(reply.done(second.search.id, 12, "critical extension is unavailable"));
    await fake.connection(2);
    expect(errors[0]).toMatch(/bind was refused/);
    expect(errors[1]).toMatch(/sync search was refused: result 12/);
  });

  it("drops a connection that sends malformed bytes, and tries the next time", async () => {
    const { fake, errors } = consumer();
    const { socket } = await initialRefresh(fake);
    socket.send(Buffer.from("30800000", "hex"));
    await fake.connection(1);
    expect(errors[0]).toMatch(/malformed LDAP message: indefinite/);
    expect(socket.destroyed).toBe(true);
  });

  it("keeps trying when no server answers", async () => {
    const { fake, errors } = consumer({ refuse: 3 });
    await fake.connection(0);
    expect(errors.filter((e) => e === "ECONNREFUSED")).toHaveLength(3);
  });

  it("asks for StartTLS before binding when configured", async () => {
    const { fake, events } = consumer({ startTls: true });
    const socket = await fake.connection(0);
    const ext = await socket.next(EXTENDED);
    socket.send(reply.extended(ext.id));
    const bind = await socket.next(BIND);
    socket.send(reply.bind(bind.id));
    const search = await socket.next(SEARCH);
    socket.send(reply.info(search.id, info.refreshPresent("c1")));
    await until(() => events.includes("refreshed 0 first"), "the refresh");
  });

  it("searches without a bind when no bind DN is configured", async () => {
    const { fake } = consumer({ bindDn: "" });
    const socket: FakeSocket = await fake.connection(0);
    expect((await socket.next(SEARCH)).mode).toBe(3);
  });

  it("abandons the search and unbinds when stopped", async () => {
    const { c, fake, events } = consumer();
    const { socket, search } = await initialRefresh(fake);
    socket.send(reply.info(search.id, info.refreshPresent("c1")));
    await until(() => events.includes("refreshed 0 first"), "the refresh");
    const stopped = c.stop();
    await socket.next(UNBIND);
    await stopped;
    expect(socket.destroyed).toBe(true);
    expect(fake.sockets).toHaveLength(1);
  });
});
