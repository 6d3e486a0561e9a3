import { afterEach, describe, expect, it } from "vitest";
import { CloudSchema } from "../../../src/config/index.js";
import { CloudCatalogs } from "../../../src/http/keystone/catalog.js";
import type { CloudClients } from "../../../src/openstack/index.js";
import { MemoryStore } from "../../../src/store/index.js";

const cloud = (id: string) =>
  CloudSchema.parse({ id, authUrl: `http://127.0.0.1:1/${id}/v3`, admin: { username: "a", password: "b" } });

/** A cloud's Keystone that answers its catalog with a compute endpoint, or hangs, or refuses. */
type Behaviour = "answers" | "hangs" | "fails";

function fakeClients(behaviour: Record<string, Behaviour>, reads: string[]) {
  return (c: ReturnType<typeof cloud>) =>
    ({
      cloud: c,
      keystone: {
        projectId: async () => "admin-project",
        request: async () => {
          reads.push(c.id);
          if (behaviour[c.id] === "hangs") return new Promise(() => {});
          if (behaviour[c.id] === "fails") throw new Error(`cloud ${c.id} is unavailable`);
          return {
            catalog: [{ type: "compute", endpoints: [{ interface: "public", url: `http://${c.id}:8774/v2.1/` }] }],
          };
        },
      },
      close: async () => {},
    }) as unknown as CloudClients;
}

const open: CloudCatalogs[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

function catalogs(ids: string[], behaviour: Record<string, Behaviour>, store = new MemoryStore(), coldWaitMs = 200) {
  const reads: string[] = [];
  const c = new CloudCatalogs(ids.map(cloud), { store, clients: fakeClients(behaviour, reads), coldWaitMs });
  open.push(c);
  return { catalogs: c, reads, store };
}

async function timed<T>(p: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await p;
  return { value, ms: performance.now() - start };
}

describe("cloud catalogs refreshed in the background", () => {
  it("never waits for a hanging cloud: only the short first-start wait, then at once without it", async () => {
    const { catalogs: c } = catalogs(["good", "hung"], { good: "answers", hung: "hangs" });
    const [good, hung] = await Promise.all([timed(c.services("good")), timed(c.services("hung"))]);
    expect(good.value.get("compute")).toBe("http://good:8774/v2.1");
    expect(hung.value.size).toBe(0);
    expect(hung.ms).toBeLessThan(2_000);
    await new Promise((r) => setTimeout(r, 250));
    const later = await timed(c.services("hung"));
    expect(later.value.size).toBe(0);
    expect(later.ms).toBeLessThan(50);
  });

  it("serves a fresh process the store's copy at once, without reading the cloud", async () => {
    const store = new MemoryStore();
    const first = catalogs(["c1"], { c1: "answers" }, store);
    expect((await first.catalogs.services("c1")).get("compute")).toBe("http://c1:8774/v2.1");
    await first.catalogs.close();
    // The cloud hangs now; the next process still lists it from the copy another process read.
    const second = catalogs(["c1"], { c1: "hangs" }, store, 0);
    expect((await second.catalogs.services("c1")).get("compute")).toBe("http://c1:8774/v2.1");
    expect(second.reads).toEqual([]);
  });

  it("keeps the last good copy when a read fails, and hands out a new list only when one was read", async () => {
    const behaviour: Record<string, Behaviour> = { c1: "answers" };
    const { catalogs: c } = catalogs(["c1"], behaviour);
    expect((await c.services("c1")).size).toBe(1);
    const before = c.services("c1");
    behaviour.c1 = "fails";
    expect(await c.refresh("c1")).toBe(false);
    expect(c.services("c1")).toBe(before);
    behaviour.c1 = "answers";
    expect(await c.refresh("c1")).toBe(true);
    expect(c.services("c1")).not.toBe(before);
  });

  it("lists no services for a cloud never read, once the first-start wait is over", async () => {
    const { catalogs: c } = catalogs(["down"], { down: "fails" }, new MemoryStore(), 0);
    expect((await c.services("down")).size).toBe(0);
    expect(c.current("down")).toBeUndefined();
  });
});
