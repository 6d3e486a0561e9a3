import { loadConfig } from "../config/index.js";
import {
  countImageStates,
  filterImageStatus,
  groupImageStatus,
  type ImageStateCounts,
  type ImageStatusFilter,
  type ImageStatusRow,
  type ImageStatusSnapshot,
  ImageStatusSnapshotSchema,
  type ImageVersionStatus,
  progressOf,
  readImageStatus,
  rowDetail,
  shortVersion,
} from "../images/index.js";
import { createStore, type Store } from "../store/index.js";
import {
  type CliIO,
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  requireCloud,
  unknownSubcommand,
} from "./command.js";

const SUBCOMMANDS = ["status"] as const;

const HELP = `Usage:
  archway images status [--cloud ID] [--image NAME] [--json] [--config FILE]
      where every image of every ImageSet stands in every cloud, as the last image distribution wrote it to the
      store: present (active and verified), transferring (bytes done of the total), failed (code and reason;
      retried on the next run) or pending (the cloud could not be reached; retried when it answers).
      Nothing is read from the clouds. Read from the configured store: with the embedded memory store the
      distribution's status is only visible inside the process that ran it (use Redis to read it from here).
      --cloud ID: only that cloud. --image NAME: only that image (its name in Glance, every version).
      On a terminal: a table per image version, clouds not yet present first, with a bar per transfer; otherwise
      one line per image version and cloud. Then the counts per state.
      --json: the snapshot (filtered; \`archway config schema report:images-status\` prints its schema), or
      \`null\` when no image has been distributed yet.

Exit codes: 0 nothing failed (transfers and pending clouds may remain), 1 some image failed in some cloud (among
the rows shown), 2 bad input.`;

/** Rows of a version shown on a terminal before the rest is folded into counts (a 1,000-cloud fleet fits a screen). */
const MAX_TTY_ROWS = 40;

/** `archway images status`. */
export const imagesCommand: Command = {
  name: "images",
  summary: "show where each ImageSet image stands in every cloud (present, transferring, failed, pending)",
  help: HELP,
  subcommands: SUBCOMMANDS,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, {
      ...configOption,
      cloud: { type: "string" },
      image: { type: "string" },
      json: { type: "boolean" },
    });
    const [sub] = positionals;
    if (sub !== "status") throw unknownSubcommand(sub, SUBCOMMANDS);
    expectPositionals(positionals, 1);
    const { config } = loadConfig(configPath(values.config, io), { env: io.env, cwd: io.cwd });
    requireCloud(config.clouds, values.cloud);
    const store = createStore(config.store);
    try {
      const code = await showImageStatus(
        store,
        { cloud: values.cloud, image: values.image },
        { json: Boolean(values.json) },
        io,
      );
      if (store.kind === "memory")
        io.err("note: store.type is memory, which no other process shares: use Redis to read a gateway's status");
      return code;
    } finally {
      await store.close();
    }
  },
};

/**
 * The work of `archway images status` on an open store: reads the snapshot, filters it and prints it (text or
 * `--json`). Returns the exit code: 1 when a row shown failed, else 0.
 */
export async function showImageStatus(
  store: Store,
  filter: ImageStatusFilter,
  opts: { json: boolean },
  io: Pick<CliIO, "out" | "isTTY">,
): Promise<number> {
  const snapshot = await readImageStatus(store);
  if (!snapshot) {
    io.out(opts.json ? "null" : "no image status yet: no ImageSet has been distributed");
    return 0;
  }
  const shown = filterImageStatus(snapshot, filter);
  const counts = countImageStates(shown.rows);
  if (opts.json) io.out(JSON.stringify(ImageStatusSnapshotSchema.parse(shown), null, 2));
  else printStatus(shown, counts, io);
  return counts.failed > 0 ? 1 : 0;
}

/** The text report: per image version its rows, then the counts and when the snapshot was written. */
export function printStatus(snapshot: ImageStatusSnapshot, counts: ImageStateCounts, io: Pick<CliIO, "out" | "isTTY">) {
  const groups = groupImageStatus(snapshot.rows);
  if (groups.length === 0) io.out("no image matches");
  for (const group of groups) {
    if (io.isTTY) io.out(versionTable(group));
    else for (const line of versionLines(group)) io.out(line);
  }
  io.out(`summary: ${countsText(counts)}`);
  io.out(`written ${snapshot.writtenAt}${snapshot.running ? " (transfers running: the status will change)" : ""}`);
}

/** `2 present, 1 transferring, 1 failed, 0 pending`. */
export function countsText(counts: ImageStateCounts): string {
  return `${counts.present} present, ${counts.transferring} transferring, ${counts.failed} failed, ${counts.pending} pending`;
}

const heading = (g: ImageVersionStatus) => `${g.image} (set ${g.imageSet}, version ${shortVersion(g.version)})`;

/** Without a terminal: one line per version with its counts, then one line per cloud, every row listed. */
export function versionLines(group: ImageVersionStatus): string[] {
  return [
    `${heading(group)}: ${countsText(group.counts)}`,
    ...group.rows.map((r) => {
      const detail = rowDetail(r);
      return `  ${r.cloudId}: ${r.state}${detail ? ` ${detail}` : ""}`;
    }),
  ];
}

const STATE_RANK: Record<ImageStatusRow["state"], number> = { failed: 0, transferring: 1, pending: 2, present: 3 };

/**
 * On a terminal: a table of the version's clouds, failures first, then transfers (with a bar), pending, present;
 * past {@link MAX_TTY_ROWS} the rest is one line of counts.
 */
export function versionTable(group: ImageVersionStatus): string {
  const sorted = [...group.rows].sort(
    (a, b) => STATE_RANK[a.state] - STATE_RANK[b.state] || a.cloudId.localeCompare(b.cloudId),
  );
  const shown = sorted.slice(0, MAX_TTY_ROWS);
  const rest = countImageStates(sorted.slice(MAX_TTY_ROWS));
  const rows = shown.map((r) => [r.cloudId, r.state, detailWithBar(r)]);
  const header = ["cloud", "state", "progress / reason"];
  const widths = [0, 1].map((i) => Math.max(header[i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell))
      .join("  ")
      .trimEnd();
  const rule = [...widths, header[2]!.length].map((w) => "-".repeat(w)).join("  ");
  const folded = rest.total > 0 ? [`... ${rest.total} more: ${countsText(rest)}`] : [];
  return [heading(group), line(header), rule, ...rows.map(line), ...folded, ""].join("\n");
}

function detailWithBar(row: ImageStatusRow): string {
  const fraction = progressOf(row);
  if (row.state !== "transferring" || fraction === undefined) return rowDetail(row);
  return `${bar(fraction)} ${rowDetail(row)}`;
}

function bar(fraction: number, width = 30): string {
  const filled = Math.min(width, Math.round(fraction * width));
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}
