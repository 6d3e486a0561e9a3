import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../../../src/audit/index.js";
import { type Observability, startObservability } from "../../../src/cli/observability.js";
import { captureIO } from "../../helpers/io.js";
import { type FacadeHarness, startFacade } from "../tokens/harness.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./otlp-receiver.js";

// Issue 26 item 4: metrics on a listener of their own and behind a bearer token, the detailed /readyz only there,
// metrics that move with real sign-ins, tokens and proxied calls, audit events with the request id, and
// OpenTelemetry traces (off by default) across facade -> broker -> Keystone, against the test environment's clouds.
const PORT = 18273;
const METRICS_PORT = 18274;
const TOKEN = "metrics-bearer-token-for-this-test-0123456789";

let h: FacadeHarness;
let otlp: OtlpReceiver;
let observability: Observability;
let metricsUrl: string;

/** The value of one series in Prometheus text (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(): Promise<string> {
  const res = await fetch(`${metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

async function login(password: string, project = "cloud-1:u-alice"): Promise<Response> {
  return fetch(`${h.url}/v3/auth/tokens`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-request-id": `obs-${password.length}-${Date.now()}` },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ["password"],
          password: { user: { name: "alice", domain: { name: "Default" }, password } },
        },
        scope: { project: { name: project, domain: { name: "archway" } } },
      },
    }),
  });
}

beforeAll(async () => {
  otlp = await startOtlpReceiver();
  h = await startFacade(PORT, {
    extraConfig:
      `metrics: { listen: "127.0.0.1:${METRICS_PORT}", bearerToken: "${TOKEN}" }\n` +
      `telemetry: { otlpEndpoint: "${otlp.endpoint}", serviceName: archway-test }\n`,
  });
  // What `archway serve` starts beside the gateway: the metrics listener and the trace exporter.
  observability = await startObservability(h.runtime, captureIO(process.env));
  metricsUrl = observability.metricsUrl ?? "";
}, 120_000);

afterAll(async () => {
  await observability?.close();
  await h?.close();
  await otlp?.close();
});

describe("metrics and readiness listeners", () => {
  it("serves /metrics and the detailed /readyz on the metrics listener, ready/not ready only on the main one", async () => {
    expect(metricsUrl).toBe(`http://127.0.0.1:${METRICS_PORT}`);
    const text = await scrape();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text).toContain("# TYPE archway_logins_total counter");
    const detail = await fetch(`${metricsUrl}/readyz`);
    expect(detail.status).toBe(200);
    expect(await detail.json()).toMatchObject({
      status: "ready",
      checks: { "store:memory": { ok: true }, "source:demo": { ok: true } },
    });
    const pub = await fetch(`${h.url}/readyz`);
    expect(pub.status).toBe(200);
    expect(await pub.json()).toEqual({ status: "ready" });
  });

  it("refuses /metrics on the main listener without the bearer token and with a wrong one (401)", async () => {
    expect((await fetch(`${h.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: "Bearer not-the-token" } })).status).toBe(401);
    expect((await fetch(`${h.url}/metrics`, { headers: { authorization: TOKEN } })).status).toBe(401);
    const right = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("archway_http_request_duration_seconds");
  });

  it("moves logins, tokens, broker, upstream, proxy, sync and source metrics after real calls", async () => {
    const before = await scrape();
    expect((await login("wrong-password")).status).toBe(401);
    const ok = await login(h.password);
    expect(ok.status).toBe(201);
    const token = ok.headers.get("x-subject-token") ?? "";
    // The first proxied call provisions alice in cloud-1 just in time, then the broker logs in as her shadow user.
    const proxied = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": token },
    });
    expect(proxied.status).toBe(200);
    const again = await fetch(`${h.url}/clouds/cloud-1/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": token },
    });
    expect(again.status).toBe(200);
    const after = await scrape();
    const moved = (series: string) => value(after, series) - value(before, series);
    expect(moved('archway_logins_total{source="demo",result="success"}')).toBe(1);
    expect(moved('archway_logins_total{source="demo",result="failure"}')).toBe(1);
    expect(moved('archway_tokens_issued_total{kind="facade"}')).toBe(1);
    expect(moved('archway_tokens_validated_total{kind="facade",result="valid"}')).toBe(2);
    expect(moved('archway_broker_cache_requests_total{cloud="cloud-1",result="miss"}')).toBeGreaterThanOrEqual(1);
    expect(moved('archway_broker_cache_requests_total{cloud="cloud-1",result="hit"}')).toBeGreaterThanOrEqual(1);
    expect(moved('archway_broker_keystone_logins_total{cloud="cloud-1",result="success"}')).toBeGreaterThanOrEqual(1);
    expect(moved('archway_proxy_requests_total{cloud="cloud-1",status_class="2xx"}')).toBe(2);
    expect(
      moved(
        'archway_upstream_request_duration_seconds_count{cloud="cloud-1",service="keystone",method="POST",status_class="2xx"}',
      ),
    ).toBeGreaterThanOrEqual(1);
    expect(
      moved(
        'archway_upstream_request_duration_seconds_count{cloud="cloud-1",service="compute",method="GET",status_class="2xx"}',
      ),
    ).toBe(2);
    expect(moved('archway_sync_runs_total{cloud="cloud-1",outcome="converged"}')).toBeGreaterThanOrEqual(1);
    expect(moved('archway_sync_operations_total{cloud="cloud-1",kind="createUser",result="applied"}')).toBe(1);
    expect(moved('archway_identity_source_duration_seconds_count{source="demo",operation="login",result="ok"}')).toBe(
      2,
    );
    // No label carries a person, a project or a path.
    expect(after).not.toMatch(/alice|u-alice|os-keypairs/);
  }, 120_000);

  it("records the request id in the audit events a request causes", async () => {
    const requestId = `audit-${Date.now()}`;
    const res = await fetch(`${h.url}/v3/auth/tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ["password"],
            password: { user: { name: "alice", domain: { name: "Default" }, password: h.password } },
          },
        },
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("x-request-id")).toBe(requestId);
    const events = (await readAudit(h.runtime.store, { limit: 50 })).map((e) => e.data);
    const mine = events.filter((e) => e.requestId === requestId).map((e) => e.type);
    expect(mine).toEqual(expect.arrayContaining(["login.success", "token.issued"]));
  });
});

describe("OpenTelemetry traces", () => {
  /** Waits for the batch exporter (1 s schedule) to deliver spans matching `pick`. */
  async function spansUntil(pick: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (pick(otlp.spans())) return otlp.spans();
      await new Promise((r) => setTimeout(r, 250));
    }
    return otlp.spans();
  }

  it("exports a facade login with a catalog, and a proxied call whose trace runs facade -> broker -> Keystone", async () => {
    const ok = await login(h.password, "cloud-2:u-alice");
    expect(ok.status).toBe(201);
    expect(((await ok.json()) as { token: { catalog?: unknown[] } }).token.catalog?.length).toBeGreaterThan(0);
    const token = ok.headers.get("x-subject-token") ?? "";
    const proxied = await fetch(`${h.url}/clouds/cloud-2/compute/v2.1/os-keypairs`, {
      headers: { "x-auth-token": token },
    });
    expect(proxied.status).toBe(200);

    const isProxy = (s: ReceivedSpan) =>
      s.name === "GET /clouds/:cloud/:service/*" && s.attributes["http.response.status_code"] === 200;
    /** The proxied requests' traces: the broker inside the request, the Keystone login inside the broker. */
    const chains = (spans: ReceivedSpan[]) =>
      spans.filter(isProxy).map((root) => {
        const inTrace = spans.filter((s) => s.traceId === root.traceId);
        const broker = inTrace.find((s) => s.name === "broker.project_token" && s.parentSpanId === root.spanId);
        const under = (parent: ReceivedSpan | undefined): ReceivedSpan[] =>
          parent ? inTrace.filter((s) => s.parentSpanId === parent.spanId).flatMap((s) => [s, ...under(s)]) : [];
        return { root, broker, keystone: under(broker).find((s) => s.name === "keystone.auth.issue"), inTrace };
      });
    const complete = (c: ReturnType<typeof chains>[number]) =>
      c.broker?.attributes["archway.cloud"] === "cloud-2" && c.keystone !== undefined;
    const spans = await spansUntil(
      (all) => all.some((s) => s.name === "POST /v3/auth/tokens") && chains(all).some(complete),
    );
    const loginSpan = spans.find((s) => s.name === "POST /v3/auth/tokens");
    expect(loginSpan).toMatchObject({ serviceName: "archway-test", kind: 2 });
    const full = chains(spans).find(complete);
    if (!full)
      console.info(
        JSON.stringify(
          chains(spans).map((c) => c.inTrace.map((s) => [s.name, s.spanId, s.parentSpanId ?? "-"])),
          null,
          1,
        ),
      );
    expect(full?.keystone).toMatchObject({ kind: 3, attributes: { "archway.cloud": "cloud-2" } });
    // Sync runs (here the just-in-time one of the first proxied call) have spans of their own.
    expect(spans.some((s) => s.name === "sync.cloud")).toBe(true);
  }, 120_000);
});
