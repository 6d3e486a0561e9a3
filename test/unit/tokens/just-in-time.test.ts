import { describe, expect, it } from "vitest";
import type { Identity } from "../../../src/identity/index.js";
import { CLOUD_PROVISIONING, JustInTime } from "../../../src/tokens/index.js";

const alice = { id: "demo:alice", username: "alice" } as Identity;
const bob = { id: "demo:bob", username: "bob" } as Identity;

/** A provisioning run the test finishes by hand, counting how often each (person, cloud) was started. */
function manual() {
  const started: string[] = [];
  const finish = new Map<string, { resolve: () => void; reject: (err: Error) => void }>();
  const ensure = (identity: Identity, cloudId: string) =>
    new Promise<void>((resolve, reject) => {
      started.push(`${identity.id}@${cloudId}`);
      finish.set(`${identity.id}@${cloudId}`, { resolve, reject });
    });
  return { started, finish, ensure };
}

describe("just-in-time provisioning, bounded and deduplicated", () => {
  it("resolves when the run ends within the wait", async () => {
    const m = manual();
    const jit = new JustInTime(m.ensure);
    const waiting = jit.provision(alice, "cloud-1", 10_000);
    await new Promise((r) => setTimeout(r, 5));
    m.finish.get("demo:alice@cloud-1")?.resolve();
    await expect(waiting).resolves.toBeUndefined();
    expect(jit.inFlight).toBe(0);
  });

  it("answers 503 cloud_provisioning naming the cloud after the wait, and the run goes on to the end", async () => {
    const m = manual();
    const jit = new JustInTime(m.ensure);
    const err = await jit.provision(alice, "slow-cloud", 30).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: CLOUD_PROVISIONING, status: 503, retryAfterSeconds: 5 });
    expect((err as Error).message).toContain("being provisioned in slow-cloud");
    expect(jit.inFlight).toBe(1);
    // The next request joins the run still in flight instead of starting another.
    const again = jit.provision(alice, "slow-cloud", 10_000);
    m.finish.get("demo:alice@slow-cloud")?.resolve();
    await expect(again).resolves.toBeUndefined();
    expect(m.started).toEqual(["demo:alice@slow-cloud"]);
    expect(jit.inFlight).toBe(0);
  });

  it("starts one run per (person, cloud) however many requests wait, and separate runs for others", async () => {
    const m = manual();
    const jit = new JustInTime(m.ensure);
    const waits = [
      ...Array.from({ length: 5 }, () => jit.provision(alice, "cloud-1", 10_000)),
      jit.provision(alice, "cloud-2", 10_000),
      jit.provision(bob, "cloud-1", 10_000),
    ];
    await new Promise((r) => setTimeout(r, 5));
    expect(m.started.sort()).toEqual(["demo:alice@cloud-1", "demo:alice@cloud-2", "demo:bob@cloud-1"]);
    for (const f of m.finish.values()) f.resolve();
    await Promise.all(waits);
  });

  it("hands a failure to the requests waiting, and starts anew on the next request after it", async () => {
    const m = manual();
    const jit = new JustInTime(m.ensure);
    const waiting = jit.provision(alice, "cloud-1", 10_000);
    await new Promise((r) => setTimeout(r, 5));
    m.finish.get("demo:alice@cloud-1")?.reject(new Error("keystone said no"));
    await expect(waiting).rejects.toThrow("keystone said no");
    const retry = jit.provision(alice, "cloud-1", 10_000);
    await new Promise((r) => setTimeout(r, 5));
    expect(m.started).toHaveLength(2);
    m.finish.get("demo:alice@cloud-1")?.resolve();
    await retry;
  });

  it("reports a failure that came after every request stopped waiting (no unhandled rejection)", async () => {
    const m = manual();
    const late: string[] = [];
    const jit = new JustInTime(m.ensure, {
      onLateFailure: (err, cloudId) => late.push(`${cloudId}: ${(err as Error).message}`),
    });
    await jit.provision(alice, "cloud-1", 10).catch(() => {});
    m.finish.get("demo:alice@cloud-1")?.reject(new Error("late"));
    await new Promise((r) => setTimeout(r, 5));
    expect(late).toEqual(["cloud-1: late"]);
  });
});
