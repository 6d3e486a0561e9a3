import type { Context } from "hono";
import type { Identity } from "../../identity/index.js";
import type { WebDeps } from "./deps.js";

/** What an upstream OIDC sign-in hands over for the session it starts. */
export interface SsoHandover {
  source: string;
  idToken?: string;
  refreshToken?: string;
  sid?: string;
}

/**
 * Starts the browser session of an upstream SSO sign-in and keeps its upstream grant (refresh token, upstream `sid`)
 * for as long as the session lives: right after the callback, or after Archway's own second step when the source
 * asked one the upstream did not report (`login.tsx`, `mfa-login.tsx`).
 */
export async function startSsoSession(
  c: Context,
  deps: Pick<WebDeps, "sessions" | "upstreamGrants">,
  identity: Identity,
  upstream: SsoHandover,
  auth: { amr: string[]; acr?: string } | undefined,
): Promise<void> {
  const web = await deps.sessions.start(
    c,
    identity,
    { source: upstream.source, ...(upstream.idToken ? { idToken: upstream.idToken } : {}) },
    auth,
  );
  if (web.sid && web.sessionEnd)
    await deps.upstreamGrants?.keep(web.sid, {
      source: upstream.source,
      personId: identity.id,
      username: identity.username,
      refreshToken: upstream.refreshToken,
      upstreamSid: upstream.sid,
      absoluteEnd: web.sessionEnd,
    });
}
