import { parse, stringify } from "yaml";
import { z } from "zod";
import type { Identity } from "../../identity/index.js";
import { WITH_MFA } from "../../policy/index.js";
import { entitlementsOf, FACADE_DOMAIN } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";

/**
 * A `clouds.yaml` with one entry per project, named after it, all through Archway's `/v3` (the facade). Each entry
 * lists the project's regions (the clouds where the person holds it) under `regions`, the first as `region_name`:
 * `openstack --os-cloud ops --os-region-name cloud-2 ...` picks another. No password is written: the `openstack` CLI
 * asks for it (or reads `--os-password`, `OS_PASSWORD`, or a `secure.yaml` the person keeps).
 */
export function cloudsYaml(deps: Pick<WebDeps, "policies" | "publicUrl">, identity: Identity): string {
  const clouds: Record<string, unknown> = {};
  // Every project the person may reach with a second factor: each entry is a future sign-in, which gets the
  // roles of its own strength (a project only granted with MFA answers 401 to a password alone).
  for (const p of entitlementsOf(identity, deps.policies(), WITH_MFA).projects) {
    clouds[p.name] = {
      auth: {
        auth_url: `${deps.publicUrl}/v3`,
        username: identity.username,
        // The facade picks the identity source by user domain name.
        user_domain_name: identity.source,
        project_name: p.name,
        project_domain_name: FACADE_DOMAIN.name,
      },
      auth_type: "password",
      region_name: p.regionIds[0],
      regions: [...p.regionIds],
      interface: "public",
      identity_api_version: 3,
    };
  }
  const header =
    `# clouds.yaml for ${identity.username}, made by Archway (${deps.publicUrl}).\n` +
    "# Save as ~/.config/openstack/clouds.yaml and run: openstack --os-cloud <project> [--os-region-name <cloud>] server list\n" +
    "# Every entry goes through Archway; your password is asked for (or taken from --os-password / OS_PASSWORD).\n";
  return header + stringify({ clouds }, { lineWidth: 0 });
}

const PasswordEntries = z.object({
  clouds: z
    .record(
      z.string(),
      z.object({
        auth: z.object({ auth_url: z.string(), project_name: z.string(), project_domain_name: z.string() }),
        regions: z.array(z.string()).min(1),
        interface: z.string().default("public"),
      }),
    )
    .default({}),
});

/** One `clouds.yaml` entry that signs in with an Archway token (`archway login`). */
export interface TokenCloudEntry {
  auth_type: "v3token";
  auth: { auth_url: string; token: string; project_name: string; project_domain_name: string };
  region_name: string;
  interface: string;
  identity_api_version: 3;
}

/**
 * Turns what {@link cloudsYaml} renders (one entry per project, its regions listed) into one `v3token` entry per
 * project and region, named `<prefix><project>-<region>`, each signing in to the facade with `token` (an access
 * token for the facade audience). The client side of `archway login`: the server decides the projects and regions,
 * the command only rewrites the authentication.
 */
export function tokenCloudEntries(
  rendered: string,
  opts: { token: string; prefix: string },
): Record<string, TokenCloudEntry> {
  const { clouds } = PasswordEntries.parse(parse(rendered) ?? {});
  const entries: Record<string, TokenCloudEntry> = {};
  for (const [project, entry] of Object.entries(clouds)) {
    for (const region of entry.regions) {
      entries[`${opts.prefix}${project}-${region}`] = {
        auth_type: "v3token",
        auth: {
          auth_url: entry.auth.auth_url,
          token: opts.token,
          project_name: entry.auth.project_name,
          project_domain_name: entry.auth.project_domain_name,
        },
        region_name: region,
        interface: entry.interface,
        identity_api_version: 3,
      };
    }
  }
  return entries;
}
