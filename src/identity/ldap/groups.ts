import { escapeFilter } from "ldapts";
import type { Directory } from "./directory.js";
import type { LdapSettings } from "./presets.js";

/** A group: its DN and short name. */
export interface GroupRef {
  dn: string;
  name: string;
}

/**
 * `(attribute=value)` with the value escaped per RFC 4515 (`*`, `(`, `)`, `\`, NUL). Attribute names and the
 * configured filters come from the operator's config; only values can come from a user.
 */
export function equals(attribute: string, value: string): string {
  return `(${attribute}=${escapeFilter`${value}`})`;
}

/** The first RDN's value of a DN (`cn=ops,ou=groups,...` -> `ops`), with escapes undone. */
export function rdnValue(dn: string): string {
  const match = /^[^=]+=((?:\\.|[^,+])*)/.exec(dn);
  return (match?.[1] ?? dn).replace(/\\([0-9a-fA-F]{2}|.)/g, (_m, x: string) =>
    x.length === 2 ? String.fromCharCode(Number.parseInt(x, 16)) : x,
  );
}

/**
 * Resolves a person's groups, direct and (when configured) nested: Active Directory's in-chain matching rule in
 * one query, otherwise a breadth-first walk up the membership graph, bounded by `maxDepth` and remembering what
 * it visited, so a cycle ends. `parentsCache` is shared across people during one enumeration.
 */
export class GroupResolver {
  readonly #dir: Directory;
  readonly #s: LdapSettings;
  // Which groups contain a group changes rarely; a minute of caching saves a search per group per login.
  readonly #shared = new Map<string, { expires: number; value: Promise<GroupRef[]> }>();
  static readonly PARENTS_TTL_MS = 60_000;

  constructor(dir: Directory, settings: LdapSettings) {
    this.#dir = dir;
    this.#s = settings;
  }

  async resolve(
    user: { dn: string; username: string; memberOf: string[] },
    parentsCache = new Map<string, Promise<GroupRef[]>>(),
  ): Promise<GroupRef[]> {
    const s = this.#s;
    let direct: GroupRef[];
    if (s.groupMode === "memberOf") {
      direct = user.memberOf.map((dn) => ({ dn, name: rdnValue(dn) }));
    } else if (s.inChain && s.nested) {
      // One query returns every group the user is in, at any depth (AD only).
      return sortGroups(
        await this.#groups(`(&${s.groupFilter}${equals(`${s.memberAttribute}:1.2.840.113556.1.4.1941:`, user.dn)})`),
      );
    } else {
      const member = s.memberIsUid ? user.username : user.dn;
      direct = await this.#groups(`(&${s.groupFilter}${equals(s.memberAttribute, member)})`);
    }
    if (!s.nested) return sortGroups(direct);
    const seen = new Map(direct.map((g) => [g.dn.toLowerCase(), g]));
    let frontier = direct;
    for (let depth = 0; depth < s.maxDepth && frontier.length > 0; depth++) {
      const next: GroupRef[] = [];
      for (const group of frontier) {
        for (const parent of await this.#parents(group.dn, parentsCache)) {
          const key = parent.dn.toLowerCase();
          if (seen.has(key)) continue; // a cycle, or a group reached twice
          seen.set(key, parent);
          next.push(parent);
        }
      }
      frontier = next;
    }
    return sortGroups([...seen.values()]);
  }

  #parents(dn: string, cache?: Map<string, Promise<GroupRef[]>>): Promise<GroupRef[]> {
    const key = dn.toLowerCase();
    const now = Date.now();
    const cached = cache ? cache.get(key) : this.#fresh(key, now);
    if (cached) return cached;
    const s = this.#s;
    // posixGroup memberUid lists usernames, not groups: nesting only exists through DN-valued members.
    const found = s.memberIsUid
      ? Promise.resolve([])
      : this.#groups(`(&${s.groupFilter}${equals(s.memberAttribute, dn)})`);
    if (cache) cache.set(key, found);
    else {
      this.#shared.set(key, { expires: now + GroupResolver.PARENTS_TTL_MS, value: found });
      found.catch(() => this.#shared.delete(key));
    }
    return found;
  }

  #fresh(key: string, now: number): Promise<GroupRef[]> | undefined {
    const hit = this.#shared.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.#shared.delete(key);
    return undefined;
  }

  async #groups(filter: string): Promise<GroupRef[]> {
    const entries = await this.#dir.search(this.#s.groupBaseDn, {
      scope: "sub",
      filter,
      attributes: [this.#s.groupNameAttribute],
    });
    return entries.map((e) => {
      const name = e[this.#s.groupNameAttribute];
      return { dn: e.dn, name: String(Array.isArray(name) ? name[0] : (name ?? rdnValue(e.dn))) };
    });
  }
}

function sortGroups(groups: GroupRef[]): GroupRef[] {
  return groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.dn < b.dn ? -1 : 1));
}
