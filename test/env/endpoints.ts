import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";

/** One Keystone of the test environment and its admin account. */
const KeystoneEndpointSchema = z.object({
  id: z.string(),
  authUrl: z.string(),
  region: z.string(),
  adminUsername: z.string(),
  adminPassword: z.string(),
  adminProject: z.string(),
});

/**
 * What `npm run testenv -- up` writes to `.testenv/endpoints.json`: every real server the integration tests use,
 * all on loopback. Tests read it through {@link loadEndpoints}; nothing else hard-codes a port.
 */
export const EndpointsSchema = z.object({
  /** Throwaway CA that signed every TLS server certificate here (ldaps, oidc-provider, Archway in tests). */
  ca: z.object({ certFile: z.string(), keyFile: z.string(), otherCaCertFile: z.string() }),
  redis: z.object({ url: z.string(), port: z.number() }),
  /** A 3-master Redis Cluster (no replicas): the store and the sync queue on Cluster. Absent in older files. */
  redisCluster: z.object({ nodes: z.array(z.object({ host: z.string(), port: z.number() })) }).optional(),
  ldap: z.object({
    url: z.string(),
    ldapsUrl: z.string(),
    baseDn: z.string(),
    peopleDn: z.string(),
    groupsDn: z.string(),
    bulkDn: z.string(),
    bulkUsers: z.number(),
    bindDn: z.string(),
    bindPassword: z.string(),
    adminDn: z.string(),
    adminPassword: z.string(),
  }),
  /** The Samba AD DC (services/samba.sh): StartTLS on 389, LDAPS on 636, certificate from the test CA. */
  ad: z
    .object({
      url: z.string(),
      ldapsUrl: z.string(),
      caFile: z.string(),
      realm: z.string(),
      netbiosDomain: z.string(),
      dnsDomain: z.string(),
      baseDn: z.string(),
      peopleDn: z.string(),
      groupsDn: z.string(),
      users: z.number(),
      bindDn: z.string(),
      bindPassword: z.string(),
      adminDn: z.string(),
      adminPassword: z.string(),
    })
    .optional(),
  keystones: z.array(KeystoneEndpointSchema),
  novas: z.array(z.object({ cloud: z.string(), url: z.string() })),
  /** cinder-api of each cloud (`.../v3`; the catalog's volumev3 URL adds the token's project id). Absent in older files. */
  cinders: z.array(z.object({ cloud: z.string(), url: z.string() })).default([]),
  /** Neutron API of each cloud (unversioned, as in the catalog). Absent in older files. */
  neutrons: z.array(z.object({ cloud: z.string(), url: z.string() })).default([]),
  /** glance-api of each cloud (unversioned, as in the catalog) and its test-env service name. Absent in older files. */
  glances: z.array(z.object({ cloud: z.string(), url: z.string(), name: z.string() })).default([]),
  /** Loopback ports every glance accepts as web-download sources (the tests' own http servers). */
  glanceWebDownloadPorts: z.array(z.number()).default([]),
  /** Keystones in federated mode behind Apache + mod_auth_openidc, trusting Archway run on `idpUrl` by the tests. */
  federation: z.object({
    idpUrl: z.string(),
    idpPort: z.number(),
    tls: z.object({ certFile: z.string(), keyFile: z.string() }),
    keystones: z.array(KeystoneEndpointSchema),
  }),
  /** SimpleSAMLphp as the upstream SAML IdP, with the keys of the IdP and of the SPs it trusts (test-only). */
  samlIdp: z
    .object({
      metadataUrl: z.string(),
      entityId: z.string(),
      caFile: z.string(),
      idpKeyFile: z.string(),
      idpCertFile: z.string(),
      spKeyFile: z.string(),
      spCertFile: z.string(),
      spEncKeyFile: z.string(),
      spEncCertFile: z.string(),
      spBases: z.array(z.string()),
      encryptedSpBases: z.array(z.string()),
      users: z.array(
        z.object({
          username: z.string(),
          password: z.string(),
          email: z.string(),
          name: z.string(),
          groups: z.array(z.string()),
        }),
      ),
    })
    .optional(),
  oidc: z.object({
    issuer: z.string(),
    caFile: z.string(),
    clients: z.array(z.object({ clientId: z.string(), clientSecret: z.string(), redirectUris: z.array(z.string()) })),
    users: z.array(
      z.object({
        username: z.string(),
        password: z.string(),
        email: z.string(),
        name: z.string(),
        groups: z.array(z.string()),
      }),
    ),
  }),
});
export type Endpoints = z.infer<typeof EndpointsSchema>;

/** Root of the repository (test/env/..). */
export const repoRoot = resolve(import.meta.dirname, "../..");

/** Reads `.testenv/endpoints.json`; throws a clear message when the environment is not up. */
export function loadEndpoints(): Endpoints {
  const file = resolve(repoRoot, ".testenv/endpoints.json");
  let raw: string;
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    throw new Error(`${file} is missing: run 'npm run testenv -- up' first`);
  }
  return EndpointsSchema.parse(JSON.parse(raw));
}
