import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";

// BENCH_REPORT_FILE sends the sections elsewhere (trial runs that must not touch BENCHMARKS.md).
const FILE = process.env.BENCH_REPORT_FILE ?? resolve(import.meta.dirname, "../../BENCHMARKS.md");

/** A markdown table from rows of cells; the first row is the header. */
export function markdownTable(rows: readonly (readonly (string | number)[])[]): string {
  const [head, ...body] = rows;
  if (!head) return "";
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...body.map(line)].join("\n");
}

/**
 * Appends one benchmark result to BENCHMARKS.md (and prints it): a heading, the exact command that produced it,
 * the machine and the date, then the markdown body (usually a table with the ratio).
 */
export function appendBenchmark(result: { title: string; command: string; markdown: string; notes?: string }): void {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  const section = [
    `## ${result.title}`,
    "",
    `${new Date().toISOString()} · ${cpus().length} cores (${cpu}) · Node ${process.version}`,
    "",
    "```",
    result.command,
    "```",
    "",
    result.markdown,
    ...(result.notes ? ["", result.notes] : []),
    "",
    "",
  ].join("\n");
  process.stdout.write(`\n${section}`);
  if (!existsSync(FILE)) {
    writeFileSync(
      FILE,
      "# Benchmarks\n\nEach section is appended by a benchmark under `bench/` with the command that produced it.\n" +
        "These machines are noisy: compare the ratio measured within one run, not absolute figures across runs.\n\n",
    );
  }
  appendFileSync(FILE, section);
}
