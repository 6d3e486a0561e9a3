// Converge throughput: Archway's first sync of N people into the 3 real Keystones (identities -> policy ->
// observe -> plan -> apply, with its audit) vs the same Keystone writes issued directly with undici at the same
// concurrency (8 per cloud, 3 clouds at once). Rounds alternate A B B A, each into a fresh domain. Target >= 0.8.
import { randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import type { Cloud } from "../src/config/index.js";
import type { Identity } from "../src/identity/index.js";
import type { RequestEvent } from "../src/openstack/index.js";
import { type Endpoints, loadEndpoints } from "../test/env/endpoints.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import { archwaySync, CloudSchema, createCloudClients, isWrite, mapLimit, syntheticPeople } from "./lib/sync.js";

const PEOPLE = Number(process.env.BENCH_SYNC_PEOPLE ?? 60);
const CONCURRENCY = 8;
const POLICY = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: team }
spec:
  subjects: { groups: { anyOf: [team-0] } }
  clouds: { names: ["*"] }
  grants: [{ project: shared, roles: [member], create: true, description: "bench" }]
`;

interface Round {
  target: "archway" | "direct";
  seconds: number;
  writes: number;
  requests: number;
}

function clouds(domain: string): Cloud[] {
  return loadEndpoints().keystones.map((ks) =>
    CloudSchema.parse({
      id: ks.id,
      authUrl: ks.authUrl,
      region: ks.region,
      domain,
      maxConcurrency: CONCURRENCY,
      timeoutMs: 120_000,
      admin: { username: ks.adminUsername, password: ks.adminPassword, projectName: ks.adminProject },
    }),
  );
}

async function archwayRound(domain: string, people: Identity[]): Promise<Round> {
  const events: RequestEvent[] = [];
  const { sync } = archwaySync({
    clouds: clouds(domain),
    people,
    policiesYaml: POLICY,
    onRequest: (e) => events.push(e),
  });
  try {
    const t0 = performance.now();
    const { results } = await sync.service.full();
    const seconds = (performance.now() - t0) / 1000;
    const bad = results.filter((r) => r.outcome !== "converged");
    if (bad.length > 0) throw new Error(`archway did not converge: ${JSON.stringify(bad)}`);
    return { target: "archway", seconds, writes: events.filter(isWrite).length, requests: events.length };
  } finally {
    await sync.close();
  }
}

/** The writes Archway makes, issued by hand: token, role lookup, domain, project, users, grants. */
async function directCloud(
  ks: Endpoints["keystones"][number],
  domain: string,
  people: Identity[],
  count: { writes: number; requests: number },
) {
  const dispatcher = new Agent({ connections: CONCURRENCY });
  const base = ks.authUrl.replace(/\/+$/, "");
  const call = async (method: "GET" | "POST" | "PUT", path: string, token?: string, body?: unknown) => {
    count.requests++;
    if (method !== "GET" && path !== "/auth/tokens") count.writes++;
    const res = await request(`${base}${path}`, {
      method,
      dispatcher,
      headers: { "content-type": "application/json", ...(token ? { "x-auth-token": token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
    return { headers: res.headers, json: (text ? JSON.parse(text) : {}) as Record<string, Record<string, string>> };
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
    const roles = (await call("GET", "/roles?name=member", token)).json.roles as unknown as { id: string }[];
    const roleId = roles[0]!.id;
    const d = await call("POST", "/domains", token, { domain: { name: domain, description: "bench" } });
    const domainId = d.json.domain!.id!;
    const p = await call("POST", "/projects", token, {
      project: { name: "shared", domain_id: domainId, description: "bench", tags: ["archway:managed"] },
    });
    const projectId = p.json.project!.id!;
    const userIds = await mapLimit(people, CONCURRENCY, async (person) => {
      const u = await call("POST", "/users", token, {
        user: {
          name: person.username,
          domain_id: domainId,
          password: randomBytes(18).toString("base64url"),
          email: person.email,
          description: person.displayName,
          options: { ignore_password_expiry: true, ignore_lockout_failure_attempts: true },
          archway_managed: true,
          archway_identity: person.id,
          archway_key_version: 1,
          archway_keys: {},
        },
      });
      return u.json.user!.id!;
    });
    await mapLimit(userIds, CONCURRENCY, (userId) =>
      call("PUT", `/projects/${projectId}/users/${userId}/roles/${roleId}`, token),
    );
  } finally {
    await dispatcher.close();
  }
}

async function directRound(domain: string, people: Identity[]): Promise<Round> {
  const count = { writes: 0, requests: 0 };
  const t0 = performance.now();
  await Promise.all(loadEndpoints().keystones.map((ks) => directCloud(ks, domain, people, count)));
  return { target: "direct", seconds: (performance.now() - t0) / 1000, ...count };
}

async function removeDomain(domain: string) {
  await Promise.all(
    clouds(domain).map(async (cloud) => {
      const c = createCloudClients(cloud);
      try {
        const [d] = await c.keystone.listDomains({ name: domain });
        if (d) await c.keystone.deleteDomain(d.id);
      } finally {
        await c.close();
      }
    }),
  );
}

export async function benchSyncConverge(): Promise<void> {
  const people = syntheticPeople(PEOPLE, { prefix: "conv" });
  const prefix = `bench-conv-${randomBytes(3).toString("hex")}`;
  const rounds: Round[] = [];
  const order: Round["target"][] = ["archway", "direct", "direct", "archway"];
  for (const [i, target] of order.entries()) {
    const domain = `${prefix}-${i}`;
    try {
      const r = target === "archway" ? await archwayRound(domain, people) : await directRound(domain, people);
      console.log(`${target}: ${r.writes} writes in ${r.seconds.toFixed(1)} s`);
      rounds.push(r);
    } finally {
      await removeDomain(domain);
    }
  }
  const sum = (t: Round["target"]) => {
    const rs = rounds.filter((r) => r.target === t);
    const seconds = rs.reduce((s, r) => s + r.seconds, 0);
    const writes = rs.reduce((s, r) => s + r.writes, 0);
    const requests = rs.reduce((s, r) => s + r.requests, 0);
    return { seconds, writes, requests, wps: writes / seconds };
  };
  const a = sum("archway");
  const d = sum("direct");
  const ratio = a.wps / d.wps;
  appendBenchmark({
    title: "Sync converge: Archway's first apply vs the same Keystone writes issued directly",
    command: "npm run bench -- sync-converge",
    markdown: markdownTable([
      ["target", "people x clouds", "writes", "requests", "seconds", "writes/s", "archway / this"],
      [
        "archway sync (full run)",
        `${PEOPLE} x 3`,
        a.writes,
        a.requests,
        a.seconds.toFixed(1),
        a.wps.toFixed(1),
        "1.00",
      ],
      [
        "direct undici calls",
        `${PEOPLE} x 3`,
        d.writes,
        d.requests,
        d.seconds.toFixed(1),
        d.wps.toFixed(1),
        ratio.toFixed(2),
      ],
    ]),
    notes:
      `Archway / direct: **${ratio.toFixed(2)}** (target >= 0.8). Two rounds each, alternating (A B B A), each into a ` +
      `fresh domain of the 3 real Keystones (uwsgi, one process, one thread each); ${CONCURRENCY} requests in flight ` +
      "per cloud on both sides, 3 clouds at once. Archway's time includes listing the people, evaluating the policy, " +
      "observing each cloud (its extra reads), planning and auditing every change; the direct side knows the answer " +
      "and only writes (domain, project, users with the same attributes, grants).",
  });
}
