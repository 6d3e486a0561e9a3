import { stringify } from "yaml";
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
