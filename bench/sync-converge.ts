// Converge throughput: Archway's first sync of N people into the 3 real Keystones (identities -> policy ->
// observe -> plan -> apply, with its audit) vs the same Keystone writes issued directly with undici at the same
// concurrency (8 per cloud, 3 clouds at once). Rounds alternate A B B A, each into a fresh domain. Target >= 0.8.
// With FEATURES on, both sides also write the project's quotas to the real nova-api, cinder-api and neutron-server
// (with Archway's quota marks on the project) and give the role through a Keystone group (group, members, one group
// grant) instead of one grant per person.
import { randomBytes } from "node:crypto";
import { Agent, request } from "undici";
import type { Cloud } from "../src/config/index.js";
import type { Identity } from "../src/identity/index.js";
import type { RequestEvent } from "../src/openstack/index.js";
import { type Endpoints, loadEndpoints } from "../test/env/endpoints.js";
import { appendBenchmark, markdownTable } from "./lib/report.js";
import {
  archwaySync,
  BENCH_DEPLOYMENT,
  CloudSchema,
  createCloudClients,
  isWrite,
  mapLimit,
  syntheticPeople,
} from "./lib/sync.js";

const PEOPLE = Number(process.env.BENCH_SYNC_PEOPLE ?? 60);
const CONCURRENCY = 8;

/**
 * The issue's new writes, on as soon as main's sync has them (quota sync and group grants come from other branches).
 * The direct side below is ready for both.
 */
const FEATURES = {
  /** `quotas:` on the grant: Nova, Cinder and Neutron quota sets of the project, and Archway's marks on it. */
  quotas: true,
  /** `assignTo: group`: a Keystone group holds the role; the people are its members. */
  groupGrants: true,
};

/** The grant's quotas, per service, in the names of the policy and of each service's API. */
const QUOTAS = {
  compute: { cores: 16, instances: 8, ram: 32768 },
  volume: { gigabytes: 500, volumes: 8 },
  network: { port: 50, security_group: 10 },
} as const;
const KEYSTONE_GROUP = "bench-team";

const POLICY = `apiVersion: archway.dev/v1
kind: AccessPolicy
metadata: { name: team }
spec:
  subjects: { groups: { anyOf: [team-0] } }
  clouds: { names: ["*"] }
  grants:
    - project: shared
      roles: [member]
      create: true
      description: "bench"${FEATURES.groupGrants ? `\n      assignTo: group\n      keystoneGroup: ${KEYSTONE_GROUP}` : ""}${FEATURES.quotas ? `\n      quotas: ${JSON.stringify(QUOTAS)}` : ""}
`;

/** Archway's mark of the quotas it set on a project, per service (`archway:quota:<service>:<sorted names>`). */
const quotaTag = (service: string, limits: Record<string, number>) =>
  `archway:quota:${service}:${Object.keys(limits).sort().join(".")}`;

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

/**
 * The writes Archway makes, issued by hand: token, role lookup, domain, project, users, grants (per person, or a
 * group with its members and one group grant) and, with quotas, each service's quota set and Archway's mark.
 */
async function directCloud(
  ks: Endpoints["keystones"][number],
  services: { nova?: string; cinder?: string; neutron?: string },
  domain: string,
  people: Identity[],
  count: { writes: number; requests: number },
) {
  const dispatcher = new Agent({ connections: CONCURRENCY });
  const base = ks.authUrl.replace(/\/+$/, "");
  const call = async (
    method: "GET" | "POST" | "PUT",
    path: string,
    token?: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    count.requests++;
    if (method !== "GET" && path !== "/auth/tokens") count.writes++;
    const url = /^https?:/.test(path) ? path : `${base}${path}`;
    const res = await request(url, {
      method,
      dispatcher,
      headers: { "content-type": "application/json", ...(token ? { "x-auth-token": token } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
    return { headers: res.headers, json: (text ? JSON.parse(text) : {}) as Record<string, Record<string, string>> };
  };
  const marks = { archway_managed: true, archway_deployment: BENCH_DEPLOYMENT };
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
    const adminProjectId = auth.json.token!.project as unknown as { id: string };
    const roles = (await call("GET", "/roles?name=member", token)).json.roles as unknown as { id: string }[];
    const roleId = roles[0]!.id;
    const d = await call("POST", "/domains", token, { domain: { name: domain, description: "bench" } });
    const domainId = d.json.domain!.id!;
    const p = await call("POST", "/projects", token, {
      project: {
        name: "shared",
        domain_id: domainId,
        description: "bench",
        tags: ["archway:managed", `archway:dep:${BENCH_DEPLOYMENT}`],
      },
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
          ...marks,
          archway_identity: person.id,
          archway_key_version: 1,
          archway_keys: {},
        },
      });
      return u.json.user!.id!;
    });
    const work: (() => Promise<unknown>)[] = [];
    if (FEATURES.groupGrants) {
      const g = await call("POST", "/groups", token, {
        group: { name: KEYSTONE_GROUP, domain_id: domainId, ...marks },
      });
      const groupId = g.json.group!.id!;
      work.push(() => call("PUT", `/projects/${projectId}/groups/${groupId}/roles/${roleId}`, token));
      for (const userId of userIds) work.push(() => call("PUT", `/groups/${groupId}/users/${userId}`, token));
    } else {
      for (const userId of userIds)
        work.push(() => call("PUT", `/projects/${projectId}/users/${userId}/roles/${roleId}`, token));
    }
    if (FEATURES.quotas) {
      const { nova, cinder, neutron } = services;
      if (!nova || !cinder || !neutron) throw new Error(`cloud ${ks.id}: no nova, cinder or neutron in endpoints.json`);
      const sets: [string, string, unknown, Record<string, string>][] = [
        ["compute", `${nova}/os-quota-sets/${projectId}`, { quota_set: QUOTAS.compute }, NOVA_257],
        ["volume", `${cinder}/${adminProjectId.id}/os-quota-sets/${projectId}`, { quota_set: QUOTAS.volume }, {}],
        ["network", `${neutron}/v2.0/quotas/${projectId}`, { quota: QUOTAS.network }, {}],
      ];
      for (const [service, url, body, headers] of sets) {
        work.push(() => call("PUT", url, token, body, headers));
        const tag = quotaTag(service, QUOTAS[service as keyof typeof QUOTAS]);
        work.push(() => call("PUT", `/projects/${projectId}/tags/${encodeURIComponent(tag)}`, token));
      }
    }
    await mapLimit(work, CONCURRENCY, (w) => w());
  } finally {
    await dispatcher.close();
  }
}

const NOVA_257 = { "openstack-api-version": "compute 2.57", "x-openstack-nova-api-version": "2.57" };

async function directRound(domain: string, people: Identity[]): Promise<Round> {
  const count = { writes: 0, requests: 0 };
  const t0 = performance.now();
  const env = loadEndpoints();
  const url = (list: { cloud: string; url: string }[], id: string) => list.find((x) => x.cloud === id)?.url;
  await Promise.all(
    env.keystones.map((ks) =>
      directCloud(
        ks,
        { nova: url(env.novas, ks.id), cinder: url(env.cinders, ks.id), neutron: url(env.neutrons, ks.id) },
        domain,
        people,
        count,
      ),
    ),
  );
  return { target: "direct", seconds: (performance.now() - t0) / 1000, ...count };
}

async function removeDomain(domain: string) {
  await Promise.all(
    clouds(domain).map(async (cloud) => {
      const c = createCloudClients(cloud);
      try {
        const [d] = await c.keystone.listDomains({ name: domain });
        if (!d) return;
        // The services keep a deleted project's quota rows: set back to the defaults first.
        if (FEATURES.quotas) {
          const q = c.quotas();
          for (const project of await c.keystone.listProjects({ domainId: d.id })) {
            await Promise.all([q.compute, q.volume, q.network].map((s) => s.reset(project.id).catch(() => {})));
          }
        }
        await c.keystone.deleteDomain(d.id);
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
      "and only writes (domain, project, users with the same attributes, grants" +
      `${FEATURES.groupGrants ? " through a group and its members" : ""}` +
      `${FEATURES.quotas ? ", Nova, Cinder and Neutron quota sets with Archway's marks" : ""}). ` +
      `Quotas: ${FEATURES.quotas ? "on" : "off (not in main's sync yet)"}; group grants: ` +
      `${FEATURES.groupGrants ? "on" : "off (not in main's sync yet)"}.`,
  });
}
