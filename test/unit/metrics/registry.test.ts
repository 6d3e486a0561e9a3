import { describe, expect, it } from "vitest";
import { ArchwayMetrics, statusClass, timedCalls } from "../../../src/metrics/index.js";

/** One sample line's value from Prometheus text, or undefined. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`) || l === `${name} ${labels}`);
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("the metrics registry", () => {
  const metrics = () =>
    new ArchwayMetrics({ cloudIds: () => ["cloud-1", "cloud-2"], sourceIds: () => ["corp"], defaultMetrics: false });

  it("names Archway's own metrics with archway_ and the process's without a prefix", async () => {
    const m = new ArchwayMetrics();
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names).toContain("process_cpu_user_seconds_total");
    expect(names).toContain("nodejs_eventloop_lag_p99_seconds");
    const own = names.filter((n) => !n.startsWith("process_") && !n.startsWith("nodejs_"));
    expect(own.length).toBeGreaterThan(10);
    for (const n of own) expect(n).toMatch(/^archway_/);
  });

  it("counts tokens, broker cache, proxy answers, sync runs and operations with bounded labels", async () => {
    const m = metrics();
    m.tokenIssued("facade");
    m.tokenValidated("facade", "valid");
    m.tokenValidated("facade", "revoked");
    m.brokerCache("cloud-1", true);
    m.brokerCache("cloud-1", false);
    m.brokerLogin("cloud-1", false);
    // A cloud nobody configured (a client typed it in a URL) is never a label value of its own.
    m.proxyRequest("../../etc/passwd", 403);
    m.proxyRequest("cloud-2", 201);
    m.syncRun("cloud-2", "converged");
    m.syncOperation("cloud-2", "createUser", true);
    m.upstream("cloud-1", "compute", "GET", 200, 0.02);
    m.upstream("cloud-1", "some/path", "BREW", 0, 3);
    m.sourceCall("corp", "login", true, 0.004);
    m.sourceCall("alice", "login", false, 0.004);
    const text = await m.registry.metrics();
    expect(sample(text, "archway_tokens_issued_total", 'kind="facade"')).toBe(1);
    expect(sample(text, "archway_tokens_validated_total", 'kind="facade",result="revoked"')).toBe(1);
    expect(sample(text, "archway_broker_cache_requests_total", 'cloud="cloud-1",result="hit"')).toBe(1);
    expect(sample(text, "archway_broker_cache_requests_total", 'cloud="cloud-1",result="miss"')).toBe(1);
    expect(sample(text, "archway_broker_keystone_logins_total", 'cloud="cloud-1",result="error"')).toBe(1);
    expect(sample(text, "archway_proxy_requests_total", 'cloud="unknown",status_class="4xx"')).toBe(1);
    expect(sample(text, "archway_proxy_requests_total", 'cloud="cloud-2",status_class="2xx"')).toBe(1);
    expect(sample(text, "archway_sync_runs_total", 'cloud="cloud-2",outcome="converged"')).toBe(1);
    expect(sample(text, "archway_sync_operations_total", 'cloud="cloud-2",kind="createUser",result="applied"')).toBe(1);
    expect(
      sample(
        text,
        "archway_upstream_request_duration_seconds_count",
        'cloud="cloud-1",service="compute",method="GET",status_class="2xx"',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        "archway_upstream_request_duration_seconds_count",
        'cloud="cloud-1",service="other",method="other",status_class="none"',
      ),
    ).toBe(1);
    expect(
      sample(text, "archway_identity_source_duration_seconds_count", 'source="corp",operation="login",result="ok"'),
    ).toBe(1);
    expect(text).not.toContain("etc/passwd");
    expect(text).not.toContain('source="alice"');
  });

  it("reports the queue depth summed over its queues, and whether the store answers", async () => {
    const m = metrics();
    m.watchQueue(async () => ({ waiting: 3, active: 1, failed: 0 }));
    m.watchQueue(async () => ({ waiting: 2, active: 0, failed: 4 }));
    m.watchQueue(async () => {
      throw new Error("redis down");
    });
    let up = true;
    m.watchStore(async () => {
      if (!up) throw new Error("down");
    });
    let text = await m.registry.metrics();
    expect(sample(text, "archway_sync_queue_jobs", 'state="waiting"')).toBe(5);
    expect(sample(text, "archway_sync_queue_jobs", 'state="failed"')).toBe(4);
    expect(sample(text, "archway_store_up", "1")).toBe(1);
    up = false;
    text = await m.registry.metrics();
    expect(text).toMatch(/^archway_store_up 0$/m);
  });

  it("counts silent Redis connections replaced, by client", async () => {
    const m = metrics();
    m.silentReconnect("store");
    m.silentReconnect("store");
    m.silentReconnect("sync_worker");
    const text = await m.registry.metrics();
    expect(sample(text, "archway_redis_silent_reconnects_total", 'client="store"')).toBe(2);
    expect(sample(text, "archway_redis_silent_reconnects_total", 'client="sync_worker"')).toBe(1);
  });

  it("classes statuses", () => {
    expect([statusClass(200), statusClass(404), statusClass(503), statusClass(0), statusClass(999)]).toEqual([
      "2xx",
      "4xx",
      "5xx",
      "none",
      "none",
    ]);
  });
});

describe("timedCalls", () => {
  class Source {
    readonly id = "corp";
    #secret = "inside";
    async login(name: string): Promise<string | null> {
      return name === "bad" ? Promise.reject(new Error("directory down")) : `${name}:${this.#secret}`;
    }
    async *list(): AsyncIterable<string> {
      yield this.#secret;
      yield "two";
    }
    close(): void {}
    /** Not timed, and reads a private field (as StaticSource.replace does on a reload). */
    replace(secret: string): string {
      const before = this.#secret;
      this.#secret = secret;
      return before;
    }
  }

  it("times promises and iterations, keeps private fields, capabilities and identity checks", async () => {
    const seen: [string, boolean][] = [];
    const wrapped = timedCalls(new Source(), ["login", "list"], (op, ok) => seen.push([op, ok]));
    expect(wrapped).toBeInstanceOf(Source);
    expect("login" in wrapped).toBe(true);
    expect(wrapped.id).toBe("corp");
    expect(await wrapped.login("alice")).toBe("alice:inside");
    await expect(wrapped.login("bad")).rejects.toThrow("directory down");
    const listed: string[] = [];
    for await (const x of wrapped.list()) listed.push(x);
    expect(listed).toEqual(["inside", "two"]);
    wrapped.close();
    // An untimed method runs on the object (its private fields), and reading it twice gives one function.
    expect(wrapped.replace("new")).toBe("inside");
    expect(await wrapped.login("bob")).toBe("bob:new");
    expect(wrapped.replace).toBe(wrapped.replace);
    expect(seen).toEqual([
      ["login", true],
      ["login", false],
      ["list", true],
      ["login", true],
    ]);
  });
});
