import { randomBytes } from "node:crypto";
import {
  type Config,
  ConfigError,
  federationAudience,
  formatProblem,
  loadConfig,
  publicUrlOf,
} from "../config/index.js";
import {
  type Command,
  configOption,
  configPath,
  expectPositionals,
  parseCommandArgs,
  requireCloud,
  UsageError,
  unknownSubcommand,
} from "./command.js";

const HELP = `Usage: archway federation snippet <cloud> [--config FILE]

Prints what the operators of a federated cloud put on their side so that its Keystone trusts Archway: the Apache
mod_auth_openidc lines (Archway's access tokens checked against its JWKS), the keystone.conf lines, and how the
openstack CLI logs in. The identity provider, mapping, protocol and groups are kept right by 'archway sync'.`;

/** `archway federation snippet <cloud>`: the cloud-side configuration of a federated cloud. */
export const federationCommand: Command = {
  name: "federation",
  summary: "print the Apache and keystone.conf lines a federated cloud needs",
  help: HELP,
  subcommands: ["snippet"],
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, configOption);
    const [sub, cloudId] = positionals;
    expectPositionals(positionals, 2);
    if (sub !== "snippet") throw unknownSubcommand(sub, federationCommand.subcommands ?? []);
    if (!cloudId) throw new UsageError("expected: snippet <cloud>");
    let config: Config;
    try {
      config = loadConfig(configPath(values.config, io), { env: io.env, cwd: io.cwd }).config;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) io.err(formatProblem(p));
      return 2;
    }
    requireCloud(config.clouds, cloudId);
    const cloud = config.clouds.find((c) => c.id === cloudId);
    if (!cloud) throw new UsageError(`unknown cloud '${cloudId}'`);
    if (cloud.mode !== "federated") {
      io.err(`cloud ${cloudId} is in ${cloud.mode} mode: set 'mode: federated' for it first`);
      return 2;
    }
    io.out(federationSnippet(config, cloudId));
    return 0;
  },
};

/** The snippet for one federated cloud (exported for tests). */
export function federationSnippet(config: Config, cloudId: string): string {
  const cloud = config.clouds.find((c) => c.id === cloudId);
  if (!cloud) throw new UsageError(`unknown cloud '${cloudId}'`);
  const issuer = publicUrlOf(config);
  const idp = cloud.federation?.identityProviderId ?? "archway";
  const protocol = cloud.federation?.protocol ?? "openid";
  const clients = config.idp.clients.filter((c) => c.clouds.includes(cloud.id) && c.grants.includes("password"));
  const client = clients[0]?.id ?? "<a client with the password grant and clouds: [" + cloud.id + "]>";
  return `# Cloud ${cloud.id} trusting Archway (${issuer}) for federated logins.
# Token audience this cloud's mapping accepts: ${federationAudience(cloud)}

# 1. Apache, in the virtual host that serves Keystone (libapache2-mod-auth-openidc, as an OAuth 2.0
#    resource server: it checks the signature and expiry of Archway's access tokens; the mapping checks iss and aud).
LoadModule auth_openidc_module /usr/lib/apache2/modules/mod_auth_openidc.so
OIDCOAuthVerifyJwksUri ${issuer}/.well-known/jwks.json
# OIDCCABundlePath /etc/ssl/certs/archway-ca.pem   # only when Archway's certificate is not publicly trusted
OIDCOAuthRemoteUserClaim sub
OIDCClaimPrefix OIDC_CLAIM_
# Keystone splits claim values on ';' (the groups claim is a list)
OIDCClaimDelimiter ;
OIDCPassClaimsAs environment
OIDCCryptoPassphrase ${randomBytes(24).toString("base64url")}
WSGIPassAuthorization On
<Location ~ "^/v3/OS-FEDERATION/identity_providers/${idp}/protocols/${protocol}/auth$">
  AuthType oauth20
  Require valid-user
</Location>

# 2. keystone.conf
[auth]
methods = password,token,${protocol},mapped,application_credential
[${protocol}]
remote_id_attribute = OIDC_CLAIM_iss

# 3. Kept right by 'archway sync' (do not edit by hand): identity provider '${idp}' (remote_ids ${issuer}, domain
#    '${cloud.domain}'), mapping '${idp}-mapping', protocol '${protocol}', and one group per project role in domain
#    '${cloud.domain}' with its role assignment. Archway never changes an identity provider it did not create.

# 4. The openstack CLI, with a password:
#   export OS_AUTH_TYPE=v3oidcpassword OS_AUTH_URL=${cloud.authUrl} OS_IDENTITY_API_VERSION=3
#   export OS_IDENTITY_PROVIDER=${idp} OS_PROTOCOL=${protocol}
#   export OS_DISCOVERY_ENDPOINT=${issuer}/.well-known/openid-configuration
#   export OS_CLIENT_ID=${client} OS_CLIENT_SECRET=<its secret> OS_OPENID_SCOPE=openid
#   export OS_USERNAME=<you> OS_PASSWORD=<your password> OS_PROJECT_NAME=<project> OS_PROJECT_DOMAIN_NAME=${cloud.domain}
# or with an access token from Archway (OS_AUTH_TYPE=v3oidcaccesstoken, OS_ACCESS_TOKEN=<token>).`;
}
