// The authenticating proxy (/clouds/<cloud>/<service>/...: token verification, revocation, session,
// entitlements, brokered Keystone token from the store, header hygiene, link rewriting) vs Debian nginx
// `proxy_pass` (keep-alive upstream, nothing else) vs direct, all to the same cheap upstream: an nginx answering
// a fixed version document, so the figures are the proxies' and not the upstream's. One run, alternating rounds.
//
// The upstream is registered in keystone-1 under a region and domain unique to this run (service type `dns`,
// which nothing else in the test environment uses), so no other test sees it; all of it is deleted at the end.
import { randomBytes } from "node:crypto";
import { request } from "undici";
import { hashPassword } from "../src/identity/index.js";
import { loadEndpoints } from "../test/env/endpoints.js";
import { freePort, personalProjectPolicy, startArchway } from "./lib/archway.js";
import { compareDrive } from "./lib/drive.js";
import { compareHttp } from "./lib/http-compare.js";
import { deleteDomain, keystoneAdmin, keystoneLogin, passwordAuth } from "./lib/keystone.js";
import { type BenchNginx, startNginx } from "./lib/nginx.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";

const SERVICE_TYPE = "dns";

export async function benchProxy(): Promise<void> {
  const env = loadEndpoints();
  const ks = env.keystones[0]!;
  const run = `bench-proxy-${randomBytes(4).toString("hex")}`;
  const upstreamPort = await freePort();
  const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
  // Shaped like Nova's version document, with a link to the upstream's own origin that Archway rewrites.
  const doc = JSON.stringify({
    version: {
      id: "v2.0",
      status: "CURRENT",
      updated: "2011-01-21T11:33:21Z",
      links: [{ rel: "self", href: `${upstreamOrigin}/v2/` }],
      "media-types": [{ base: "application/json", type: "application/vnd.openstack.compute+json;version=2" }],
    },
  });
  const started: { stop(): Promise<void> }[] = [];
  const admin = await keystoneLogin(ks.authUrl, passwordAuth(ks.adminUsername, ks.adminPassword, ks.adminProject));
  let serviceId: string | undefined;
  try {
    const upstream: BenchNginx = await startNginx(
      "upstream",
      upstreamPort,
      `  server {\n    listen 127.0.0.1:${upstreamPort};\n    keepalive_requests 1000000;\n` +
        `    location / {\n      default_type application/json;\n      return 200 '${doc}';\n    }\n  }`,
    );
    started.push(upstream);
    const nginxPort = await freePort();
    const nginx = await startNginx(
      "proxy",
      nginxPort,
      `  upstream cloud { server 127.0.0.1:${upstreamPort}; keepalive 64; }\n` +
        `  server {\n    listen 127.0.0.1:${nginxPort};\n    keepalive_requests 1000000;\n` +
        `    location / {\n      proxy_pass http://cloud;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n    }\n  }`,
    );
    started.push(nginx);

    await keystoneAdmin(ks.authUrl, admin, "POST", "/regions", { region: { id: run } });
    const service = await keystoneAdmin<{ service: { id: string } }>(ks.authUrl, admin, "POST", "/services", {
      service: { type: SERVICE_TYPE, name: run, enabled: true },
    });
    serviceId = service!.service.id;
    await keystoneAdmin(ks.authUrl, admin, "POST", "/endpoints", {
      endpoint: { service_id: serviceId, interface: "public", region_id: run, url: `${upstreamOrigin}/v2` },
    });

    const archway = await startArchway(
      `policiesDir: policies\nsecrets: { shadowPasswordKey: "${randomBytes(32).toString("base64url")}" }\n` +
        "identity:\n  sources:\n    - id: demo\n      type: static\n      users:\n" +
        `        - { username: alice, passwordHash: "${await hashPassword("pw", { N: 1024 })}", groups: [devs] }\n` +
        `clouds:\n  - id: ${ks.id}\n    authUrl: "${ks.authUrl}"\n    region: ${run}\n    domain: ${run}\n` +
        `    admin: { username: ${ks.adminUsername}, password: "${ks.adminPassword}", projectName: ${ks.adminProject} }\n`,
      { "personal.yaml": personalProjectPolicy("devs") },
    );
    started.push(archway);
    const login = await fetch(`${archway.url}/v3/auth/tokens?nocatalog`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        auth: {
          identity: { methods: ["password"], password: { user: { name: "alice", password: "pw" } } },
          scope: { project: { name: `${ks.id}:u-alice` } },
        },
      }),
    });
    await login.arrayBuffer();
    const token = login.headers.get("x-subject-token");
    if (login.status !== 201 || !token) throw new Error(`archway login failed: ${login.status}`);

    const targets = [
      {
        name: "archway /clouds/…/dns/v2/",
        url: `${archway.url}/clouds/${ks.id}/${SERVICE_TYPE}/v2/`,
        headers: { "x-auth-token": token },
        pid: archway.pid,
      },
      { name: "nginx proxy_pass", url: `${nginx.url}/v2/`, pid: nginx.workerPid },
      { name: "direct", url: `${upstreamOrigin}/v2/`, pid: upstream.workerPid },
    ];
    // The first proxied call provisions alice's shadow user just in time and fills the broker's cache.
    const first = await fetch(targets[0]!.url, { headers: targets[0]!.headers });
    const firstBody = await first.text();
    if (first.status !== 200 || !firstBody.includes(`${archway.url}/clouds/${ks.id}/${SERVICE_TYPE}/v2/`))
      throw new Error(`the proxied call failed: ${first.status} ${firstBody.slice(0, 300)}`);

    const throughput = await compareHttp(targets, { connections: 10, duration: 4, rounds: 2, warmup: 1 });
    // One request at a time, timed in-process with sub-millisecond resolution: the latency each proxy adds.
    const latency = await compareDrive(
      targets.map((t) => ({
        name: t.name,
        send: async () => {
          const res = await request(t.url, { headers: t.headers });
          await res.body.dump();
          return res.statusCode === 200;
        },
      })),
      { concurrency: 1, roundMs: 2_000, rounds: 2, warmupMs: 500 },
    );
    const direct = latency[2]!.p50;
    const rows = throughput.map((f, i) => {
      const l = latency[i]!;
      return [
        f.name,
        f.rps.toFixed(0),
        f.p50.toFixed(0),
        f.p99.toFixed(0),
        f.errors + f.non2xx,
        (l.p50 * 1000).toFixed(0),
        i === 2 ? "-" : ((l.p50 - direct) * 1000).toFixed(0),
        f.cpuUs === undefined ? "-" : f.cpuUs.toFixed(1),
      ];
    });
    const [a, n, d] = throughput;
    appendBenchmark({
      title: "Proxy: Archway vs nginx proxy_pass vs direct",
      command: "npm run bench -- proxy",
      markdown: markdownTable([
        [
          "target",
          "req/s (c=10)",
          "p50 ms (c=10)",
          "p99 ms (c=10)",
          "errors + non-2xx",
          "p50 µs (c=1)",
          "added p50 µs (c=1)",
          "CPU µs/req (the proxy; direct: the upstream)",
        ],
        ...rows,
      ]),
      notes:
        `Archway / nginx: **${(a!.rps / n!.rps).toFixed(2)}**, Archway / direct: **${(a!.rps / d!.rps).toFixed(2)}** ` +
        `(throughput); Archway adds **${((latency[0]!.p50 - direct) * 1000).toFixed(0)} µs** at p50, nginx ` +
        `${((latency[1]!.p50 - direct) * 1000).toFixed(0)} µs. Upstream: nginx returning a ${doc.length}-byte JSON ` +
        "version document (Archway rewrites its link, nginx passes it as is). Archway on its in-memory store, " +
        "brokered Keystone token cached; both proxies keep upstream connections alive; one nginx worker each. " +
        "Throughput: autocannon -c 10, 2 alternating rounds of 4 s; latency: one request at a time (undici), " +
        "2 alternating rounds of 2 s.",
    });
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    if (serviceId) await keystoneAdmin(ks.authUrl, admin, "DELETE", `/services/${serviceId}`).catch(() => undefined);
    await keystoneAdmin(ks.authUrl, admin, "DELETE", `/regions/${run}`).catch(() => undefined);
    await deleteDomain(ks.authUrl, admin, run).catch(() => undefined);
  }
}
