import { type Identity, identityId } from "../identity.js";
import type { AssertionFacts } from "./assertion.js";
import type { SamlSourceConfig } from "./schema.js";

/** The Subject's NameID, named in the attribute mapping as an attribute. */
export const NAME_ID = "nameID";

/**
 * The identity an assertion describes, mapped as the source's `attributes` say (as the OIDC source maps claims):
 * `nameID` names the Subject's NameID, anything else an attribute. The stable id must be there; the username falls
 * back to the id; groups are every value of the groups attribute (a single `a,b` or `a;b` value is split, as some
 * IdPs send one joined value). Every attribute is kept under its Name for policies.
 */
export function samlIdentity(
  sourceId: string,
  map: SamlSourceConfig["attributes"],
  assertion: AssertionFacts,
): Identity | null {
  const values = (name: string): string[] =>
    name === NAME_ID ? (assertion.nameId ? [assertion.nameId] : []) : (assertion.attributes[name] ?? []);
  const first = (name: string) => values(name)[0];
  const id = first(map.id);
  if (!id) return null;
  const groups = values(map.groups);
  return {
    id: identityId(sourceId, id),
    source: sourceId,
    username: first(map.username) ?? id,
    email: first(map.email),
    displayName: first(map.displayName),
    groups:
      groups.length === 1
        ? (groups[0] as string)
            .split(/[,;]/)
            .map((g) => g.trim())
            .filter(Boolean)
        : groups,
    groupDns: [],
    sshKeys: [],
    attributes: { ...assertion.attributes, ...(assertion.nameId ? { [NAME_ID]: [assertion.nameId] } : {}) },
  };
}
