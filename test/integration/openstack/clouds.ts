import { randomBytes } from "node:crypto";
import { type Cloud, CloudSchema } from "../../../src/config/index.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";

/** Cloud configurations of the test environment's Keystones, each with its own test-run domain. */
export function testClouds(opts: { domain?: string; endpoints?: Endpoints; timeoutMs?: number } = {}): Cloud[] {
  const endpoints = opts.endpoints ?? loadEndpoints();
  return endpoints.keystones.map((ks) =>
    CloudSchema.parse({
      id: ks.id,
      authUrl: ks.authUrl,
      region: ks.region,
      admin: { username: ks.adminUsername, password: ks.adminPassword, projectName: ks.adminProject },
      domain: opts.domain ?? "archway",
      timeoutMs: opts.timeoutMs ?? 10_000,
    }),
  );
}

/** A unique name for this test run (`archway-test-<hex>`), so tests sharing the Keystones never collide. */
export function uniqueName(prefix = "archway-test"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}
