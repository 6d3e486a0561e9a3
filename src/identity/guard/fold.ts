/**
 * The folding a directory applies when it compares usernames, so that every spelling the directory would accept
 * for one entry counts against one lock. LDAP's `caseIgnoreMatch` (and Active Directory's) prepares strings per
 * RFC 4518: compatibility normalization (a fullwidth `ｕ` is `u`), case folding, and insignificant spaces dropped
 * (leading and trailing gone, inner runs as one). Folding more than a source does only merges locks, never splits.
 */
export function foldUsername(username: string): string {
  // Upper then lower approximates full case folding (`ß` -> `SS` -> `ss`, as the directory's folding does); NFKC
  // again afterwards because case mapping can produce decomposed sequences.
  return username.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC").trim().replace(/\s+/gu, " ");
}
