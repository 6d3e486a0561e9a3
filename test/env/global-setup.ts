import { execFileSync } from "node:child_process";
import { loadEndpoints, repoRoot } from "./endpoints.js";

/**
 * Vitest global setup of the integration project: brings the real servers up once per run (fast when they are
 * already up) and checks the endpoints file. Servers stay up afterwards for the next run, unless
 * ARCHWAY_TESTENV_DOWN=1 (CI's run-all.sh takes them down itself).
 */
export async function setup(): Promise<void> {
  execFileSync("bash", ["test/env/testenv.sh", "up"], { cwd: repoRoot, stdio: "inherit", timeout: 600_000 });
  loadEndpoints();
}

export async function teardown(): Promise<void> {
  if (process.env.ARCHWAY_TESTENV_DOWN === "1") {
    execFileSync("bash", ["test/env/testenv.sh", "down"], { cwd: repoRoot, stdio: "inherit" });
  }
}
