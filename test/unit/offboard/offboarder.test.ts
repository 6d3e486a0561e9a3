import { describe, expect, it } from "vitest";
import { type Cloud, CloudSchema } from "../../../src/config/index.js";
import { Offboarder } from "../../../src/offboard/index.js";
import type { CloudClients, User } from "../../../src/openstack/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { DEPLOYMENT_ATTR, DISABLED_AT_ATTR, IDENTITY_ATTR, USER_MARK } from "../../../src/sync/index.js";

const clouds: Cloud[] = ["c1", "c2", "c3"].map((id) =>
  CloudSchema.parse({ id, authUrl: `http://${id}.invalid/v3`, admin: { username: "a", password: "p" } }),
);

/** A Keystone with one shadow user of `corp:alice` holding two application credentials; `down` refuses all. */
function fakeCloud(cloud: Cloud, state: { down: boolean; calls: string[] }) {
  const user: User = {
    id: `${cloud.id}-u1`,
    name: "alice",
    domain_id: "d1",
    enabled: true,
    options: {},
    [USER_MARK]: true,
    [DEPLOYMENT_ATTR]: "t",
    [IDENTITY_ATTR]: "corp:alice",
  } as User;
  const creds = new Set(["ac1", "ac2"]);
  const guard = (what: string) => {
    state.calls.push(`${cloud.id} ${what}`);
    if (state.down) throw new Error(`${cloud.id} is down`);
  };
  const keystone = {
    listDomains: async () => {
      guard("domains");
      return [{ id: "d1", name: "archway", enabled: true }];
    },
    listUsers: async (f: { name?: string }) => {
      guard("users");
      return !f.name || f.name === user.name ? [user] : [];
    },
    updateUser: async (_id: string, body: Record<string, unknown>) => {
      guard(`update enabled=${String(body.enabled)}`);
      Object.assign(user, body);
      return user;
    },
    request: async (spec: { method: string; path: string }) => {
      guard(`${spec.method} ${spec.path}`);
      if (spec.method === "GET") return { application_credentials: [...creds].map((id) => ({ id })) };
      creds.delete(spec.path.split("/").pop() ?? "");
      return undefined;
    },
  };
  return { clients: { cloud, keystone } as unknown as CloudClients, user, creds };
}

function setup() {
  const calls: string[] = [];
  const up = { down: false, calls };
  // c3 has its own switch, to be stopped alone.
  const c3 = { down: false, calls };
  const fakes = new Map(clouds.map((c) => [c.id, fakeCloud(c, c.id === "c3" ? c3 : up)]));
  const order: string[] = [];
  const audit: { type: string; cloud?: string; state?: string }[] = [];
  let clock = 1_000_000;
  const store = new MemoryStore();
  const offboarder = new Offboarder({
    clouds,
    clients: (cloud) => fakes.get(cloud.id)?.clients as CloudClients,
    store,
    audit: async (e) => void audit.push(e as never),
    sessions: {
      endPerson: async (id) => {
        order.push(`sessions ${id}`);
        return 2;
      },
    },
    purgeBrokerCache: async (id) => void order.push(`broker ${id}`),
    retryMs: 1_000,
    ownership: { deploymentId: "t", adoptUnmarked: false },
    now: () => new Date(clock),
  });
  return { offboarder, fakes, c3, order, audit, advance: (ms: number) => (clock += ms), store };
}

describe("the offboarder", () => {
  it("ends sessions and purges the broker first, then disables and deletes credentials in every cloud", async () => {
    const { offboarder, fakes, order, audit } = setup();
    const report = await offboarder.offboard(
      { id: "corp:alice", username: "alice" },
      { cause: "kill-switch", reason: "test", actor: "op" },
    );
    expect(order).toEqual(["sessions corp:alice", "broker corp:alice"]);
    expect(report).toMatchObject({ sessionsEnded: 2, done: 3, pending: 0 });
    for (const f of fakes.values()) {
      expect(f.user.enabled).toBe(false);
      expect(typeof f.user[DISABLED_AT_ATTR]).toBe("string");
      expect(f.creds.size).toBe(0);
    }
    expect(audit.filter((e) => e.type === "offboard.cloud").map((e) => e.cloud)).toEqual(["c1", "c2", "c3"]);
    expect(await offboarder.offboarded.get("corp:alice")).toMatchObject({ cause: "kill-switch" });
  });

  it("queues a cloud that is down without holding the others, retries it with backoff, and undo restores", async () => {
    const { offboarder, fakes, c3, advance } = setup();
    c3.down = true;
    const report = await offboarder.offboard(
      { id: "corp:alice", username: "alice" },
      { cause: "departed", reason: "gone", actor: "directory" },
    );
    expect(report).toMatchObject({ done: 2, pending: 1 });
    expect(fakes.get("c1")?.user.enabled).toBe(false);
    expect((await offboarder.pending.all()).c3?.["corp:alice"]).toMatchObject({ action: "offboard", attempts: 1 });

    expect(await offboarder.retryPending()).toEqual([]); // not due yet
    advance(1_000);
    expect((await offboarder.retryPending()).map((o) => o.state)).toEqual(["pending"]);
    expect((await offboarder.pending.all()).c3?.["corp:alice"]?.attempts).toBe(2);
    c3.down = false;
    advance(1_000);
    expect(await offboarder.retryPending()).toEqual([]); // backoff doubled: 2 s
    advance(1_000);
    expect((await offboarder.retryPending()).map((o) => o.state)).toEqual(["done"]);
    expect(fakes.get("c3")?.user.enabled).toBe(false);
    expect(await offboarder.pending.all()).toEqual({});

    const undone = await offboarder.restore({ id: "corp:alice", username: "alice" }, { reason: "oops", actor: "op" });
    expect(undone).toMatchObject({ done: 3, pending: 0 });
    for (const f of fakes.values()) {
      expect(f.user.enabled).toBe(true);
      expect(f.user[DISABLED_AT_ATTR]).toBeNull();
    }
    expect(await offboarder.offboarded.get("corp:alice")).toBeUndefined();
  });
});
