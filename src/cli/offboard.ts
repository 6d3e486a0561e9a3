import type { Cloud } from "../config/index.js";
import {
  type CloudOutcome,
  createOffboard,
  type OffboardReport,
  type OffboardService,
  UpstreamGrants,
} from "../offboard/index.js";
import { type CloudClients, createCloudClients } from "../openstack/index.js";
import { dropBrokeredTokens } from "../tokens/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  stderrLog,
  UsageError,
} from "./command.js";
import { buildRuntime, type Runtime } from "./runtime.js";

const HELP = `Usage:
  archway offboard <person> [--reason TEXT] [--json] [--config FILE]
      cut a person off now, everywhere (the kill switch): logins refused, Archway sessions, tokens and grants
      ended, cached Keystone tokens dropped, then in every cloud at once the person's users disabled (Keystone
      refuses their tokens) and their application credentials deleted. A cloud that is down is queued and
      retried by 'archway worker' (or 'archway serve' on the embedded store) until it answers.
  archway offboard --undo <person> [--json] [--config FILE]
      let them back: logins allowed and users enabled again (sessions and deleted credentials stay gone)
  archway offboard --pending [--json] [--config FILE]
      what waits for clouds that were down

<person> is username@source (e.g. alice@corp) or an identity id (<source>:<id>). Sessions live in the store:
with the embedded in-memory store a separate command cannot reach a running server's sessions (use the admin
page there, or a Redis store).

Exit codes: 0 done in every cloud, 1 some clouds pending (queued) or failed, 2 bad input.`;

/** `archway offboard`: the kill switch, its undo, and the pending queue. */
export const offboardCommand: Command = {
  name: "offboard",
  summary: "cut a person off everywhere now (or --undo), with per-cloud progress",
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      json: { type: "boolean" },
      undo: { type: "boolean" },
      pending: { type: "boolean" },
      reason: { type: "string" },
    });
    const json = values.json ?? false;
    expectPositionals(positionals, values.pending ? 0 : 1);
    if (!values.pending && positionals.length !== 1) throw new UsageError("expected a person (username@source)");
    const runtime = buildRuntime(configPath(values.config, io), io, { logDestination: stderrLog() });
    const clients = cloudClients();
    try {
      const service = buildOffboard(runtime, { clients: clients.get });
      if (values.pending) return await pending(service, io, json);
      if (runtime.store.kind === "memory" && !json)
        io.err("note: the store is in memory: a running server's sessions are not reachable from this command");
      const person = await service.resolve(positionals[0] as string);
      const actor = `cli:${io.env.USER ?? "operator"}`;
      const onCloud = json ? undefined : (o: CloudOutcome) => io.out(formatOutcome(o));
      const report = values.undo
        ? await service.offboarder.restore(person, { reason: values.reason ?? "undone by an operator", actor, onCloud })
        : await service.offboarder.offboard(person, {
            cause: "kill-switch",
            reason: values.reason ?? "kill switch",
            actor,
            onCloud,
          });
      io.out(json ? JSON.stringify(report, null, 2) : formatReport(report));
      return report.pending > 0 ? 1 : 0;
    } finally {
      await clients.close();
      await runtime.close();
    }
  },
};

/**
 * The offboarding service of a worker or of this command: sessions through the store, the broker's cache purged
 * through its per-person generation in the store (no broker runs here).
 */
export function buildOffboard(runtime: Runtime, sync: { clients: (cloud: Cloud) => CloudClients }): OffboardService {
  return createOffboard({
    config: runtime.loaded.config,
    store: runtime.store,
    audit: runtime.audit,
    sources: runtime.sources,
    clients: sync.clients,
    sessions: runtime.sessions,
    purgeBrokerCache: (id) => dropBrokeredTokens(runtime.store, id),
    onError: (source, message) => runtime.log.error({ source }, message),
    upstreamGrants: new UpstreamGrants({ store: runtime.store, sealer: runtime.sealer, sessions: runtime.sessions }),
  });
}

function cloudClients() {
  const cache = new Map<string, CloudClients>();
  return {
    get(cloud: Cloud): CloudClients {
      let c = cache.get(cloud.id);
      if (!c) {
        c = createCloudClients(cloud, { retry: { attempts: 2 } });
        cache.set(cloud.id, c);
      }
      return c;
    },
    close: () => Promise.allSettled([...cache.values()].map((c) => c.close())),
  };
}

async function pending(service: OffboardService, io: CliIO, json: boolean): Promise<number> {
  const all = await service.offboarder.pending.all();
  if (json) {
    io.out(JSON.stringify(all, null, 2));
    return 0;
  }
  const lines = Object.entries(all).flatMap(([cloudId, people]) =>
    Object.entries(people).map(
      ([id, e]) =>
        `${cloudId}: ${e.action} ${e.username || id} since ${e.since}, ${e.attempts} attempts, next ${new Date(e.nextAt).toISOString()}: ${e.lastError}`,
    ),
  );
  io.out(lines.length > 0 ? lines.join("\n") : "nothing pending");
  return 0;
}

function formatOutcome(o: CloudOutcome): string {
  if (o.state === "pending") return `${o.cloudId}: PENDING (queued, retried when it answers): ${o.error ?? ""}`;
  if (o.state === "absent") return `${o.cloudId}: nothing there (${o.ms} ms)`;
  return `${o.cloudId}: done (${o.users} users, ${o.appCredentials} application credentials, ${o.ms} ms)`;
}

function formatReport(r: OffboardReport): string {
  const who = r.person.username ? `${r.person.username} (${r.person.id})` : r.person.id;
  const head =
    r.action === "offboard"
      ? `offboarded ${who}: ${r.sessionsEnded} sessions ended, cached cloud tokens dropped`
      : `restored ${who}: logins allowed again`;
  const pendingClouds = r.clouds.filter((c) => c.state === "pending").map((c) => c.cloudId);
  return `${head}; ${r.done} of ${r.clouds.length} clouds done${pendingClouds.length ? `, pending: ${pendingClouds.join(", ")}` : ""}`;
}
