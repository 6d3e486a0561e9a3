import { stringify } from "yaml";
import type { Identity } from "../../identity/index.js";
import { entitledProjects, FACADE_DOMAIN } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";

/**
 * A `clouds.yaml` with one entry per cloud and project, all through Archway's `/v3` (the facade), named
 * `<cloud>-<project>`. No password is written: the `openstack` CLI asks for it (or reads `--os-password`,
 * `OS_PASSWORD`, or a `secure.yaml` the person keeps).
 */
export function cloudsYaml(deps: Pick<WebDeps, "policies" | "publicUrl">, identity: Identity): string {
  const clouds: Record<string, unknown> = {};
  for (const p of entitledProjects(identity, deps.policies())) {
    clouds[`${p.cloudId}-${p.keystoneName}`] = {
      auth: {
        auth_url: `${deps.publicUrl}/v3`,
        username: identity.username,
        // The facade picks the identity source by user domain name.
        user_domain_name: identity.source,
        project_name: p.name,
        project_domain_name: FACADE_DOMAIN.name,
      },
      auth_type: "password",
      region_name: p.cloudId,
      interface: "public",
      identity_api_version: 3,
    };
  }
  const header =
    `# clouds.yaml for ${identity.username}, made by Archway (${deps.publicUrl}).\n` +
    "# Save as ~/.config/openstack/clouds.yaml and run: openstack --os-cloud <name> server list\n" +
    "# Every entry goes through Archway; your password is asked for (or taken from --os-password / OS_PASSWORD).\n";
  return header + stringify({ clouds }, { lineWidth: 0 });
}
