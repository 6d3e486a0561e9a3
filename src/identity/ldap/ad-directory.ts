import { parseUsnMark, usnMark } from "./ad.js";
import type { Directory } from "./directory.js";
import { values } from "./entry.js";
import { equals } from "./groups.js";
import type { LdapSettings } from "./presets.js";

/** The domain's names: NetBIOS (`DOMAIN\user`) and DNS (implicit UPNs `user@ad.example.org`). */
export interface DomainNames {
  netbios?: string;
  dns?: string;
}

const ROOT = { scope: "base", filter: "(objectClass=*)" } as const;

/**
 * Reads the domain's names from the directory: the crossRef of the default naming context under
 * `CN=Partitions` holds `nETBIOSName` and `dnsRoot` (readable by any authenticated account). A configured
 * NetBIOS name wins; the DNS name falls back to the naming context's `DC=` parts.
 */
export async function readDomainNames(dir: Directory, configured?: string): Promise<DomainNames> {
  const [root] = await dir.search("", { ...ROOT, attributes: ["defaultNamingContext", "configurationNamingContext"] });
  const nc = root ? values(root, "defaultNamingContext")[0] : undefined;
  const conf = root ? values(root, "configurationNamingContext")[0] : undefined;
  const fromDn = nc
    ?.split(",")
    .map((rdn) => /^\s*dc=(.+)$/i.exec(rdn)?.[1])
    .filter(Boolean)
    .join(".");
  let netbios = configured;
  let dns = fromDn || undefined;
  if (nc && conf) {
    const [ref] = await dir.search(`CN=Partitions,${conf}`, {
      scope: "one",
      filter: `(&(objectClass=crossRef)${equals("nCName", nc)})`,
      attributes: ["nETBIOSName", "dnsRoot"],
    });
    if (ref) {
      netbios ??= values(ref, "nETBIOSName")[0];
      dns = values(ref, "dnsRoot")[0] ?? dns;
    }
  }
  return { netbios, dns };
}

/** "Now" in the DC's own counter: its highestCommittedUSN, named after the DC (see {@link usnMark}). */
export async function readUsnMark(dir: Directory): Promise<string> {
  const [root] = await dir.search("", { ...ROOT, attributes: ["highestCommittedUSN", "dsServiceName"] });
  const usn = root ? values(root, "highestCommittedUSN")[0] : undefined;
  const dc = root ? values(root, "dsServiceName")[0] : undefined;
  if (!usn || !dc)
    throw new Error("the root DSE has no highestCommittedUSN or dsServiceName: is this Active Directory?");
  return usnMark(usn, dc);
}

/** More changed groups than this and the incremental listing is simply everyone (one filter stays small). */
const MAX_CHANGED_GROUPS = 100;

/**
 * The filter part for "changed since `mark`" by uSNChanged, or "" for everyone (no usable mark: another DC's,
 * or too many changed groups). A membership change moves the group's uSNChanged, not the member's, so the
 * members of changed groups (at any depth, with the in-chain rule) count as changed too. Someone removed from a
 * group is not found this way (AD keeps no trace on the person): the next full run revokes what they lost.
 */
export async function usnChangedFilter(dir: Directory, s: LdapSettings, mark: string): Promise<string> {
  const parsed = parseUsnMark(mark);
  if (!parsed) return "";
  const [root] = await dir.search("", { ...ROOT, attributes: ["dsServiceName"] });
  if (!root || values(root, "dsServiceName")[0] !== parsed.dc) return "";
  const after = `(${s.changedAttribute}>=${parsed.usn + 1n})`;
  const groups = await dir.search(s.groupBaseDn, {
    scope: "sub",
    filter: `(&${s.groupFilter}${after})`,
    attributes: ["1.1"],
  });
  if (groups.length > MAX_CHANGED_GROUPS) return "";
  const rule = s.inChain ? "memberOf:1.2.840.113556.1.4.1941:" : "memberOf";
  const members = groups.map((g) => equals(rule, g.dn)).join("");
  return members ? `(|${after}${members})` : after;
}
