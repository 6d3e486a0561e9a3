import { readFileSync } from "node:fs";

// USER_HZ: the unit of /proc's CPU times; 100 on every Linux Node supports (sysconf is not reachable from Node).
const TICKS = 100;

/** CPU seconds (user + system) a process has used so far, 0 when it is gone. From /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine so far (every core; idle and iowait excluded). From /proc/stat. */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.map(Number);
  const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (n[3] ?? 0) + (n[4] ?? 0);
  return (total - idle) / TICKS;
}

/** Measures CPU seconds spent by some processes and by the machine while `fn` runs. */
export async function withCpu<T>(
  pids: readonly number[],
  fn: () => Promise<T>,
): Promise<{ value: T; pidsCpu: number; machineCpu: number }> {
  const p0 = pids.reduce((a, p) => a + processCpuSeconds(p), 0);
  const m0 = machineBusySeconds();
  const value = await fn();
  return {
    value,
    pidsCpu: pids.reduce((a, p) => a + processCpuSeconds(p), 0) - p0,
    machineCpu: machineBusySeconds() - m0,
  };
}
