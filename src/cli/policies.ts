import type { Cloud, LocatedProblem } from "../config/index.js";
import { type CompiledPolicySet, loadPolicies } from "../policy/index.js";
import type { Runtime } from "./runtime.js";

/** The policy files of a running process, compiled, and compiled again on request. */
export interface LivePolicies {
  /** The policies in use: every part of the process reads them through this function. */
  current: () => CompiledPolicySet;
  /** Problems of the first compilation (the caller decides whether the process may start). */
  problems: LocatedProblem[];
  /**
   * Compiles the files again; without problems, they are the policies in use from now on. With problems, the
   * policies in use stay and the problems are returned. `clouds`: compile against this inventory instead (a
   * reload that changes `clouds.d`: the policies must hold against the clouds about to be in use).
   */
  reload(clouds?: readonly Cloud[]): LocatedProblem[];
}

/** Compiles the configured policies folder against the configured clouds, sources and roles. */
export function livePolicies(runtime: Runtime, cwd?: string): LivePolicies {
  const { config, policiesDir } = runtime.loaded;
  const compile = (clouds: readonly Cloud[] = config.clouds) =>
    loadPolicies(
      policiesDir,
      { clouds: [...clouds], sources: config.identity.sources.map((s) => s.id), roles: config.roles },
      cwd,
    );
  const first = compile();
  let current = first.policies;
  return {
    current: () => current,
    problems: first.problems,
    reload(clouds) {
      const next = compile(clouds);
      if (next.problems.length === 0) current = next.policies;
      return next.problems;
    },
  };
}
