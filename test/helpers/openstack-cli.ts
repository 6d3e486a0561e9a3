import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Who runs the real `openstack` CLI against Archway's facade, and where. */
export interface CliLogin {
  /** Archway's base URL (the CLI authenticates at `<url>/v3`). */
  url: string;
  username: string;
  password: string;
  /** A project in the facade's domain (`archway`): one project in every cloud. */
  project: string;
  /** The region picks the cloud (docs/tokens.md). */
  region: string;
  /** A HOME of the test's own: the CLI writes its cache there. */
  home: string;
}

/** The environment of a password login through the facade, and nothing of the test process's own. */
export function cliEnv(login: CliLogin): Record<string, string> {
  return {
    PATH: "/usr/bin:/bin",
    HOME: login.home,
    OS_AUTH_URL: `${login.url}/v3`,
    OS_IDENTITY_API_VERSION: "3",
    OS_USERNAME: login.username,
    OS_PASSWORD: login.password,
    OS_USER_DOMAIN_NAME: "Default",
    OS_PROJECT_NAME: login.project,
    OS_PROJECT_DOMAIN_NAME: "archway",
    OS_REGION_NAME: login.region,
    OS_INTERFACE: "public",
  };
}

/** Runs `openstack <args> -f json` (Debian's python3-openstackclient) and parses what it prints. */
export async function openstackJson(login: CliLogin, args: string[], timeoutMs = 90_000): Promise<unknown> {
  const { stdout } = await run("/usr/bin/openstack", [...args, "-f", "json"], {
    env: cliEnv(login),
    timeout: timeoutMs,
  });
  return JSON.parse(stdout);
}
