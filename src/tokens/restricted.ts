import { createHash, createHmac } from "node:crypto";
import type { Cloud } from "../config/index.js";
import { ArchwayError } from "../errors.js";
import type { Identity } from "../identity/index.js";
import {
  createAppCredential,
  deleteAppCredential,
  findAppCredentials,
  type IssuedToken,
  issueToken,
  isUpstreamStatus,
  OpenStackError,
  type Transport,
} from "../openstack/index.js";
import type { FacadeProject } from "./entitlements.js";

/**
 * The Keystone application credential a brokered cloud's session token comes from when the session may use fewer
 * roles than the person's shadow user holds there (grants that wait on a second factor the session has not passed).
 * Keystone scopes a token to the credential's project with only the credential's roles (and the roles they imply),
 * and a credential made without `unrestricted` cannot make further credentials or trusts. Name and secret are
 * derived (HMAC under the shadow password), so nothing is stored; a change of roles is another credential.
 */
export function restrictedCredential(
  shadowPassword: string,
  project: Pick<FacadeProject, "keystoneDomain" | "keystoneName" | "roles">,
): { name: string; secret: string } {
  const fields = fieldsKey(["restricted", project.keystoneDomain, project.keystoneName, ...[...project.roles].sort()]);
  return {
    name: `archway-restricted-${createHash("sha256").update(fields).digest("hex").slice(0, 24)}`,
    secret: createHmac("sha256", shadowPassword).update(fields).digest("base64url"),
  };
}

/** What {@link restrictedToken} needs of the broker. */
export interface RestrictedLogin {
  cloud: Cloud;
  transport: Transport;
  identity: Identity;
  project: FacadeProject;
  shadowPassword: string;
  /** A token of the shadow user scoped to the project with every role it holds (to make the credential with). */
  fullToken: () => Promise<IssuedToken>;
}

/**
 * A project token carrying only `project.roles` (never one of `project.withheldRoles`): from the derived application
 * credential, made on first use with the shadow user's full token. A credential Keystone no longer accepts (its
 * roles changed, the key rotated, it expired, Keystone deleted it with a role assignment) is made again. Refuses
 * (403) rather than hand out a token that carries a withheld role.
 */
export async function restrictedToken(login: RestrictedLogin): Promise<IssuedToken> {
  const { cloud, transport, identity, project } = login;
  const authUrl = cloud.authUrl.replace(/\/+$/, "");
  const credential = restrictedCredential(login.shadowPassword, project);
  const auth = {
    method: "application_credential" as const,
    name: credential.name,
    secret: credential.secret,
    userName: identity.username,
    userDomainName: cloud.domain,
  };
  let issued: IssuedToken;
  try {
    issued = await issueToken(transport, authUrl, auth);
  } catch (err) {
    if (!(err instanceof OpenStackError) || (err.upstreamStatus !== 401 && err.upstreamStatus !== 404)) throw err;
    const full = await login.fullToken();
    const keystone = { token: full.token, userId: full.userId };
    // Whatever holds the name (an old secret, an expired one) goes first: names are unique per user.
    for (const old of await findAppCredentials(transport, authUrl, keystone, credential.name))
      await deleteAppCredential(transport, authUrl, keystone, old.id);
    await createAppCredential(transport, authUrl, keystone, {
      name: credential.name,
      description: `Archway: ${project.keystoneName} without roles that wait on a second factor`,
      secret: credential.secret,
      roles: project.roles.map((name) => ({ name })),
      unrestricted: false,
    }).catch((e: unknown) => {
      // Another process made it meanwhile (or a retried request had landed): same name, same derived secret.
      if (!isUpstreamStatus(e, 409)) throw e;
    });
    issued = await issueToken(transport, authUrl, auth);
  }
  const leaked = project.withheldRoles.filter((r) => issued.roles.includes(r));
  if (leaked.length > 0)
    throw new ArchwayError(
      "mfa_required",
      `cloud ${cloud.id}: role ${leaked.join(", ")} on ${project.keystoneName} needs a sign-in with a second factor (Keystone implies it from this session's roles)`,
      403,
    );
  return issued;
}

/** A collision-free key of several strings: their lengths say where each ends. */
function fieldsKey(fields: readonly string[]): string {
  let head = "";
  for (const f of fields) head += `${f.length}:`;
  return `${head};${fields.join("")}`;
}
