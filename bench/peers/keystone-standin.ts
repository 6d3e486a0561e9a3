// A light stand-in for many OpenStack clouds, for the sync scale SIMULATION only (not Keystone, Nova, Cinder or
// Neutron): one process serves every cloud under /<cloud>/ and keeps each cloud's state in memory (standin/), and
// answers the calls Archway's sync makes, each after a random 5-20 ms (a realistic reply time):
//   /<cloud>/v3/...                     Keystone: domains, projects, users, groups and members, user and group
//                                       grants, role assignments, application credentials; the token's catalog
//                                       names the three services below
//   /<cloud>/compute/v2.1/...           Nova: os-quota-sets (2.57 shape), flavors (detail, create, description,
//                                       os-extra_specs, os-flavor-access, delete), os-keypairs
//   /<cloud>/volume/v3/<project>/...    Cinder: os-quota-sets
//   /<cloud>/network/v2.0/...           Neutron: quotas, security-groups, security-group-rules
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { cinder } from "./standin/cinder.js";
import { type Answer, type Call, fail, readBody, reply } from "./standin/http.js";
import { keystone } from "./standin/keystone.js";
import { neutron } from "./standin/neutron.js";
import { nova } from "./standin/nova.js";
import { type CloudState, cloud } from "./standin/state.js";

const MIN_MS = Number(process.env.STANDIN_MIN_MS ?? 5);
const MAX_MS = Number(process.env.STANDIN_MAX_MS ?? 20);

type Service = (c: CloudState, call: Call) => Promise<Answer | null>;

/** Service prefix -> its handler and how many path segments the prefix has after the cloud id. */
const SERVICES: Record<string, { handle: Service; skip: number }> = {
  v3: { handle: keystone, skip: 1 },
  compute: { handle: nova, skip: 2 }, // compute/v2.1
  volume: { handle: cinder, skip: 3 }, // volume/v3/<admin project>
  network: { handle: neutron, skip: 1 }, // network (then v2.0/...)
};

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://standin");
  const [cloudId, prefix, ...rest] = url.pathname.split("/").filter(Boolean);
  const service = prefix === undefined ? undefined : SERVICES[prefix];
  if (!cloudId || !service) return reply(res, fail(404, "no such cloud path"));
  let body: Promise<Record<string, unknown>> | undefined;
  const call: Call = {
    method: req.method ?? "GET",
    parts: rest.slice(service.skip - 1).map(decodeURIComponent),
    query: url.searchParams,
    body: () => {
      body ??= readBody(req);
      return body;
    },
    base: `http://${req.headers.host}/${cloudId}`,
  };
  const answer = await service.handle(cloud(cloudId), call);
  // Drain an unread body so the connection stays usable.
  if (!body) await call.body().catch(() => ({}));
  reply(res, answer ?? fail(501, `the stand-in does not serve ${call.method} ${url.pathname}`));
}

const server = createServer((req, res) => {
  const delay = MIN_MS + Math.random() * (MAX_MS - MIN_MS);
  setTimeout(() => {
    handle(req, res).catch((err: Error) => reply(res, fail(500, err.message)));
  }, delay);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
