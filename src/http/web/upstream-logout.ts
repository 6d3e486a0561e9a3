import type { WebDeps } from "./deps.js";

/**
 * Ends the Archway login sessions an upstream logout names: those made from the upstream session `sid`, or, when
 * Archway kept none for that sid (or the message names none), every login session of the person `personId`. Their
 * tokens, refresh tokens, grants and the web sign-in end with them, and the broker forgets the people's cached
 * Keystone tokens. Offline sessions (`offline_access` grants) stay, as they do at Archway's own sign-out. Shared by
 * the OIDC back-channel logout and the front-channel (SAML) logout.
 */
export async function endUpstreamSessions(
  deps: Pick<WebDeps, "upstreamGrants" | "tokenSessions" | "broker">,
  sourceId: string,
  named: { personId?: string; sid?: string },
  reason: string,
): Promise<number> {
  const { personId, sid } = named;
  const bySid = sid ? ((await deps.upstreamGrants?.sessionsOf(sourceId, sid)) ?? []) : [];
  let ended = 0;
  const people = new Set<string>();
  for (const loginSid of bySid) {
    const session = await deps.tokenSessions.peek(loginSid);
    if (!session || (personId && session.personId !== personId)) continue;
    if (await deps.tokenSessions.end(loginSid, reason)) ended++;
    people.add(session.personId);
  }
  if (ended === 0 && personId) {
    ended = await deps.tokenSessions.endPerson(personId, reason, { kind: "login" });
    people.add(personId);
  }
  for (const p of people) await deps.broker?.drop(p);
  return ended;
}
