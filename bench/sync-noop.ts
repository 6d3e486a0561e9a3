// No-op resync against the 3 real Keystones: after a first converge of N people (each a shadow user with a role
// on a shared project), a second full sync must write nothing, and the number of requests it sends must depend on
// clouds x object types (a handful of list calls per cloud), not on people. Measured at 100 and 1,000 people, on
// 1 and 3 clouds, next to the peer: the same state checked person by person (user + role assignments per person
// and cloud, what a per-user sync has to ask), issued with undici at the same concurrency.
import { Agent, request } from "undici";
import type { Cloud } from "../src/config/index.js";
import type { RequestEvent } from "../src/openstack/index.js";
import { type Endpoints, loadEndpoints } from "../test/env/endpoints.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import {
  archwaySync,
  CloudSchema,
  countByOperation,
  createCloudClients,
  isWrite,
  mapLimit,
  syntheticPeople,
} from "./lib/sync.js";

const SIZES = (process.env.BENCH_NOOP_PEOPLE ?? "100,1000").split(",").map(Number);
const CONCURRENCY = 8;
const POLICY = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: team }
spec:
  subjects: { groups: { anyOf: [team-0] } }
  clouds: { names: ["*"] }
  grants: [{ project: shared, roles: [member], create: true }]
`;

function clouds(domain: string, timeoutMs = 120_000): Cloud[] {
  return loadEndpoints().keystones.map((ks) =>
    CloudSchema.parse({
      id: ks.id,
      authUrl: ks.authUrl,
      region: ks.region,
      domain,
      maxConcurrency: CONCURRENCY,
      timeoutMs,
      admin: { username: ks.adminUsername, password: ks.adminPassword, projectName: ks.adminProject },
    }),
  );
}

interface Row {
  people: number;
  clouds: number;
  who: string;
  requests: number;
  writes: number;
  seconds: number;
  detail: string;
}

/** The per-person peer: for each person in each cloud, look the user up by name and read their assignments. */
async function perPersonCheck(
  keystones: Endpoints["keystones"],
  domain: string,
  usernames: string[],
): Promise<{ requests: number; seconds: number }> {
  let requests = 0;
  const t0 = performance.now();
  await Promise.all(
    keystones.map(async (ks) => {
      const dispatcher = new Agent({ connections: CONCURRENCY });
      const base = ks.authUrl.replace(/\/+$/, "");
      const call = async (method: "GET" | "POST", path: string, token?: string, body?: unknown) => {
        requests++;
        const res = await request(`${base}${path}`, {
          method,
          dispatcher,
          headers: { "content-type": "application/json", ...(token ? { "x-auth-token": token } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await res.body.text();
        if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode}`);
        return { headers: res.headers, json: JSON.parse(text) as Record<string, { id: string }[]> };
      };
      try {
        const auth = await call("POST", "/auth/tokens", undefined, {
          auth: {
            identity: {
              methods: ["password"],
              password: { user: { name: ks.adminUsername, domain: { id: "default" }, password: ks.adminPassword } },
            },
            scope: { project: { name: ks.adminProject, domain: { id: "default" } } },
          },
        });
        const token = String(auth.headers["x-subject-token"]);
        const domainId = (await call("GET", `/domains?name=${encodeURIComponent(domain)}`, token)).json.domains?.[0]
          ?.id;
        if (!domainId) throw new Error(`no domain ${domain} in ${ks.id}`);
        await mapLimit(usernames, CONCURRENCY, async (name) => {
          const user = (await call("GET", `/users?domain_id=${domainId}&name=${name}`, token)).json.users?.[0];
          if (!user) throw new Error(`no user ${name} in ${ks.id}`);
          await call("GET", `/role_assignments?user.id=${user.id}`, token);
        });
      } finally {
        await dispatcher.close();
      }
    }),
  );
  return { requests, seconds: (performance.now() - t0) / 1000 };
}

async function removeDomain(domain: string) {
  // Deleting a domain deletes its users one by one inside Keystone: give it time.
  await Promise.all(
    clouds(domain, 900_000).map(async (cloud) => {
      const c = createCloudClients(cloud, { retry: { attempts: 1 } });
      try {
        const [d] = await c.keystone.listDomains({ name: domain });
        if (d) await c.keystone.deleteDomain(d.id);
      } finally {
        await c.close();
      }
    }),
  );
}

/**
 * The domain of one fixture size. Building 1,000 shadow users in three single-threaded Keystones takes minutes, so
 * the converged fixture stays between runs (its own domain, which no test reads) and later runs start from it;
 * BENCH_NOOP_CLEANUP=1 deletes it at the end.
 */
const fixtureDomain = (size: number) => `archway-bench-noop-${size}`;

async function measure(size: number, rows: Row[]): Promise<void> {
  const domain = fixtureDomain(size);
  const people = syntheticPeople(size, { prefix: `n${size}x` });
  const events: RequestEvent[] = [];
  const { sync } = archwaySync({
    clouds: clouds(domain),
    people,
    policiesYaml: POLICY,
    onRequest: (e) => events.push(e),
  });
  try {
    let t0 = performance.now();
    const first = await sync.service.full();
    const setupSeconds = (performance.now() - t0) / 1000;
    if (first.results.some((r) => r.outcome !== "converged")) throw new Error(JSON.stringify(first.results));
    console.log(`${size} people: fixture sync ${events.filter(isWrite).length} writes in ${setupSeconds.toFixed(1)} s`);

    for (const cloudId of ["cloud-1", undefined]) {
      const from = events.length;
      t0 = performance.now();
      const { results } = await sync.service.full({ cloudId });
      const seconds = (performance.now() - t0) / 1000;
      const sent = events.slice(from);
      if (results.some((r) => r.outcome !== "converged" || (r.counts && Object.values(r.counts).some((n) => n > 0))))
        throw new Error(`the resync was not a no-op: ${JSON.stringify(results)}`);
      const perCloud = [...countByOperation(sent.filter((e) => e.cloudId === "cloud-1"))]
        .map(([op, n]) => `${op.replace(/^keystone\./, "").replace(/\.list$/, "")} ${n}`)
        .join(", ");
      rows.push({
        people: size,
        clouds: results.length,
        who: "archway no-op resync",
        requests: sent.length,
        writes: sent.filter(isWrite).length,
        seconds,
        detail: `per cloud: ${perCloud}`,
      });
    }
    const peer = await perPersonCheck(
      loadEndpoints().keystones,
      domain,
      people.map((p) => p.username),
    );
    rows.push({
      people: size,
      clouds: 3,
      who: "per-person check (undici)",
      requests: peer.requests,
      writes: 0,
      seconds: peer.seconds,
      detail: "token, domain, then user + role assignments per person",
    });
  } finally {
    await sync.close();
    if (process.env.BENCH_NOOP_CLEANUP === "1") await removeDomain(domain);
  }
}

export async function benchSyncNoop(): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) await measure(size, rows);
  appendBenchmark({
    title: "Sync: no-op resync request count vs people (3 real Keystones)",
    command: "npm run bench -- sync-noop",
    markdown: markdownTable([
      ["people", "clouds", "who", "requests", "writes", "seconds", "what"],
      ...rows.map((r) => [r.people, r.clouds, r.who, r.requests, r.writes, r.seconds.toFixed(2), r.detail]),
    ]),
    notes:
      "After a first converge (shadow user + role on a shared project per person and cloud), a second full sync " +
      "writes nothing and sends the same few list calls per cloud (domains, tagged projects, roles, the domain's " +
      "users, role assignments, groups) whether there are 100 or 1,000 people: requests = clouds x object types. " +
      "Checking the same state person by person grows with people x clouds. The converged fixtures (domains " +
      "`archway-bench-noop-100` and `-1000`) are kept between runs: the first run builds them (minutes), later runs " +
      "resync them.",
  });
}
