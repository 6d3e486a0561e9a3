import { constants } from "node:os";

/** The stop signals of a long-running command: the first asks for a drain, a second one for an exit now. */
export interface ShutdownSignals {
  /** Resolves with the first SIGTERM or SIGINT. */
  readonly first: Promise<NodeJS.Signals>;
  /** Resolves with the next one after it: the operator will not wait for the drain. */
  readonly second: Promise<NodeJS.Signals>;
  /** Removes the handlers (the default action, death by signal, comes back). */
  dispose(): void;
}

/**
 * Listens for SIGTERM and SIGINT from now on. Both stay handled until `dispose`, so a second signal during the
 * drain reaches {@link ShutdownSignals.second} instead of killing the process before it released its work.
 */
export function shutdownSignals(): ShutdownSignals {
  let count = 0;
  let resolveFirst!: (s: NodeJS.Signals) => void;
  let resolveSecond!: (s: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((r) => {
    resolveFirst = r;
  });
  const second = new Promise<NodeJS.Signals>((r) => {
    resolveSecond = r;
  });
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) resolveFirst(signal);
    else resolveSecond(signal);
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
  return {
    first,
    second,
    dispose() {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
    },
  };
}

/** The conventional exit code of a process stopped by `signal` (128 + its number: 143 for SIGTERM, 130 for SIGINT). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 15);
}

/** Resolves after `ms` without keeping the process alive. */
export function unrefSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
