import { z } from "zod";

/**
 * A person as an identity source sees them. `id` is stable for the life of the account: the source id plus an
 * immutable attribute (LDAP `entryUUID`/`objectGUID`/`ipaUniqueID`, OIDC `sub`), never the username.
 */
export const IdentitySchema = z
  .object({
    /** `<sourceId>:<immutable id>`; what sync and tokens key on. */
    id: z.string().min(1),
    /** Id of the source that vouched for this identity. */
    source: z.string().min(1),
    username: z.string().min(1),
    email: z.string().optional(),
    displayName: z.string().optional(),
    /** Group names (short names such as `cn` values or OIDC group claims). */
    groups: z.array(z.string()).default([]),
    /** Group distinguished names, when the source has them (LDAP). */
    groupDns: z.array(z.string()).default([]),
    /** OpenSSH public keys, one per entry (`ssh-ed25519 AAAA... comment`). */
    sshKeys: z.array(z.string()).default([]),
    /** Selected raw attributes or claims, always as string lists, for policy matchers. */
    attributes: z.record(z.string(), z.array(z.string())).default({}),
  })
  .strict();
export type Identity = z.infer<typeof IdentitySchema>;
export type IdentityInput = z.input<typeof IdentitySchema>;

/** Builds the stable identity id from a source id and the source's immutable attribute. */
export function identityId(sourceId: string, immutableId: string): string {
  return `${sourceId}:${immutableId}`;
}
