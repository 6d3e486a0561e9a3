import { loadConfig } from "../config/index.js";
import { configuredBreakers, createCloudClients, type QuotaUsage } from "../openstack/index.js";
import { QUOTA_SERVICES } from "../policy/index.js";
import { type QuotaReport, type QuotaTotals, quotaReport } from "../quota/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  UsageError,
} from "./command.js";

const HELP = `Usage:
  archway quota report [--cloud ID] [--json] [--config FILE]
      limits and usage of every Archway-owned project (tagged archway:managed) in every cloud (or one), per
      service (compute, volume, network), then totals per project across clouds and over all of them.
      Limits come from Nova, Cinder and Neutron, or from Keystone unified limits for clouds with
      quotaBackend: unified-limits (usage is always the service's). "in use/limit", -1 = unlimited.
      A cloud that cannot be read is reported as unavailable; the others are still reported.
      --json: one JSON document (clouds, totals, projects).

Exit codes: 0 every cloud read, 1 some cloud (or some service of a project) could not be read, 2 bad input.`;

/** `archway quota report`. */
export const quotaCommand: Command = {
  name: "quota",
  summary: "report quota limits and usage of Archway's projects per cloud, with totals",
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      cloud: { type: "string" },
      json: { type: "boolean" },
    });
    const [sub] = positionals;
    expectPositionals(positionals, 1);
    if (sub !== "report") throw new UsageError(sub ? `unknown subcommand '${sub}'` : "expected a subcommand: report");
    const { config } = loadConfig(configPath(values.config, io), { env: io.env, cwd: io.cwd });
    const clouds = values.cloud ? config.clouds.filter((c) => c.id === values.cloud) : config.clouds;
    if (values.cloud && clouds.length === 0) throw new UsageError(`no cloud '${values.cloud}' in the configuration`);
    const breakers = configuredBreakers(config.breaker);
    const clients = clouds.map((cloud) => createCloudClients(cloud, { breakers }));
    try {
      const report = await quotaReport(clients);
      if (values.json) io.out(JSON.stringify(report, null, 2));
      else printReport(report, io);
      return complete(report) ? 0 : 1;
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  },
};

/** True when every cloud and every service of every project was read. */
function complete(report: QuotaReport): boolean {
  return report.clouds.every(
    (c) => c.status === "ok" && c.projects.every((p) => QUOTA_SERVICES.every((s) => p.services[s].status === "ok")),
  );
}

function printReport(report: QuotaReport, io: CliIO): void {
  for (const cloud of report.clouds) {
    if (cloud.status !== "ok") {
      io.out(`${cloud.cloud}: unavailable (${cloud.error})`);
      continue;
    }
    io.out(`${cloud.cloud} (${cloud.backend}): ${cloud.projects.length} owned project(s)`);
    for (const project of cloud.projects) {
      io.out(`  ${project.domain} / ${project.name} (${project.id})`);
      for (const service of QUOTA_SERVICES) {
        const r = project.services[service];
        io.out(`    ${service.padEnd(8)} ${r.status === "ok" ? usageLine(r.resources) : `unavailable (${r.error})`}`);
      }
    }
  }
  for (const project of report.projects) {
    io.out(`total ${project.domain} / ${project.name} over ${project.clouds.join(", ")}`);
    printTotals(project.totals, io);
  }
  io.out("total over every cloud");
  printTotals(report.totals, io);
}

function printTotals(totals: QuotaTotals, io: CliIO): void {
  for (const service of QUOTA_SERVICES) io.out(`    ${service.padEnd(8)} ${usageLine(totals[service])}`);
}

function usageLine(usage: QuotaUsage): string {
  const parts = Object.entries(usage).map(([name, e]) => `${name} ${e.inUse}/${e.limit}`);
  return parts.length ? parts.join(", ") : "-";
}
