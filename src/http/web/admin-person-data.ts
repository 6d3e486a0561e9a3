import { ArchwayError } from "../../errors.js";
import { type FactorView, foldUsername, type LockoutRecord } from "../../identity/index.js";
import type { Person } from "../../offboard/index.js";
import type { AppCredentialRecord, Session } from "../../tokens/index.js";
import type { WebDeps } from "./deps.js";

/** How many recent lockouts the person page looks through (the guard's stream keeps 10,000). */
const LOCKOUTS_SCANNED = 2_000;

/** Everything an administrator sees of one person (never a secret: factors are kinds, labels and dates). */
export interface PersonView {
  person: Person;
  sessions: Session[];
  /** Tokens are not stored one by one: each hangs off a session. What can mint them, by kind. */
  tokens: { login: number; offline: number; offlineClients: string[] };
  credentials: AppCredentialRecord[];
  factors: FactorView[];
  lockouts: LockoutRecord[];
}

/**
 * Resolves what an administrator typed or a link carried to a person: a stable id (`<source>:<id>`), a guard
 * subject (`person:<id>`, `name:<source>:<folded username>`), `username@source`, or a bare username looked up in each
 * source that can look people up. Known-but-gone people (offboarded, last listed) resolve through the offboarding
 * service when there is one.
 */
export async function resolvePerson(
  deps: Pick<WebDeps, "lookupSources" | "passwordSources" | "redirectSources" | "offboard">,
  ref: string,
): Promise<Person> {
  const text = ref.trim();
  if (text.startsWith("person:")) return resolvePerson(deps, text.slice("person:".length));
  const named = /^name:([^:]+):(.+)$/.exec(text);
  if (named) return resolvePerson(deps, `${named[2]}@${named[1]}`);
  const sourceIds = new Set([...deps.lookupSources, ...deps.passwordSources, ...deps.redirectSources].map((s) => s.id));
  const colon = text.indexOf(":");
  if (colon > 0 && sourceIds.has(text.slice(0, colon))) {
    const known = deps.offboard ? await deps.offboard.resolve(text).catch(() => null) : null;
    return { id: text, username: known?.username ?? "" };
  }
  const at = text.lastIndexOf("@");
  const [username, sourceId] = at > 0 ? [text.slice(0, at), text.slice(at + 1)] : [text, undefined];
  const sources = deps.lookupSources.filter((s) => sourceId === undefined || s.id === sourceId);
  for (const source of sources) {
    const found = (await source.lookup(username)) ?? (await source.lookup(foldUsername(username)));
    if (found) return { id: found.id, username: found.username };
  }
  if (deps.offboard && sourceId !== undefined) return deps.offboard.resolve(text);
  throw new ArchwayError(
    "person_unknown",
    `no identity source knows '${text}': try username@source or the identity id (<source>:<id>)`,
    404,
  );
}

/** Reads a person's sessions, credentials, factors and recent lockouts. */
export async function personView(
  deps: Pick<WebDeps, "tokenSessions" | "appCredentials" | "mfa" | "guard">,
  person: Person,
): Promise<PersonView> {
  const [sessions, credentials, factors, recent] = await Promise.all([
    deps.tokenSessions.listFor(person.id),
    deps.appCredentials ? deps.appCredentials.list(person.id) : [],
    deps.mfa ? deps.mfa.list(person.id) : [],
    deps.guard.recent(LOCKOUTS_SCANNED),
  ]);
  const offline = sessions.filter((s) => s.kind === "offline");
  // Named by id, a person's username may be unknown here; their sessions know it.
  const username = person.username || sessions[0]?.identity.username || "";
  return {
    person: { ...person, username },
    sessions,
    tokens: {
      login: sessions.length - offline.length,
      offline: offline.length,
      offlineClients: [...new Set(offline.map((s) => s.clientId ?? "unknown client"))].sort(),
    },
    credentials,
    factors,
    lockouts: recent.filter((r) => lockoutConcerns(r, person)),
  };
}

/**
 * Whether a lockout record names the person: their `person:<id>` subject, or their username as the guard keys it
 * (`name:<source>:<folded>`; a name too long for a key is digested there and only matched through the id).
 */
export function lockoutConcerns(record: LockoutRecord, person: Person): boolean {
  const subjects = [...(record.subjects ?? []), ...(record.subject ? [record.subject] : [])];
  const source = person.id.slice(0, person.id.indexOf(":"));
  const name = person.username ? `name:${source}:${foldUsername(person.username)}` : undefined;
  return subjects.some((s) => s === `person:${person.id}` || (name !== undefined && s === name));
}
