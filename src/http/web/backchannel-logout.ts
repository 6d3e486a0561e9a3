import { Hono } from "hono";
import { isArchwayError } from "../../errors.js";
import { identityId, isBackchannelLogoutSource } from "../../identity/index.js";
import type { WebDeps } from "./deps.js";
import type { WebEnv } from "./security.js";
import { endUpstreamSessions } from "./upstream-logout.js";

/** Logout tokens are remembered this long by `jti`, past their own acceptance window, so none is used twice. */
const REPLAY_MS = 10 * 60_000;

/**
 * The OpenID Connect Back-Channel Logout 1.0 receiver, one per upstream OIDC source:
 * `POST /login/sso/{source}/backchannel-logout` with `logout_token`. A valid, unseen token ends the Archway login
 * sessions made from the upstream session it names (`sid`), or, when Archway kept none for that sid, every login
 * session of the person it names (`sub`): their tokens, refresh tokens and grants, the web sign-in, and the broker's
 * cached Keystone tokens. Offline sessions (`offline_access` grants) stay, as they do at Archway's own sign-out.
 * The answer is 200, or 400 with an OAuth-style error (nothing changed).
 */
export function backchannelLogoutRoutes(deps: WebDeps) {
  const app = new Hono<WebEnv>();
  app.post("/login/sso/:source/backchannel-logout", async (c) => {
    c.header("cache-control", "no-store");
    const refuse = (description: string) => c.json({ error: "invalid_request", error_description: description }, 400);
    const source = deps.redirectSources.find((s) => s.id === c.req.param("source"));
    if (!source || !isBackchannelLogoutSource(source)) return refuse("no such upstream with back-channel logout");
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const token = body.logout_token;
    if (typeof token !== "string" || token === "") return refuse("logout_token is required");
    let claims: Awaited<ReturnType<typeof source.verifyLogoutToken>>;
    try {
      claims = await source.verifyLogoutToken(token);
    } catch (err) {
      await deps.audit({ type: "logout.backchannel.refused", source: source.id, reason: (err as Error).message });
      return refuse(isArchwayError(err) ? err.message : "logout token refused");
    }
    if (!(await deps.store.setIfAbsent(`oidc:bcl:${source.id}:${claims.jti}`, "1", { ttlMs: REPLAY_MS }))) {
      await deps.audit({ type: "logout.backchannel.refused", source: source.id, reason: "replayed jti" });
      return refuse("logout token already used");
    }
    const person = claims.sub ? identityId(source.id, claims.sub) : undefined;
    const ended = await endUpstreamSessions(
      deps,
      source.id,
      { ...(person ? { personId: person } : {}), ...(claims.sid ? { sid: claims.sid } : {}) },
      "upstream back-channel logout",
    );
    await deps.audit({
      type: "logout.backchannel",
      source: source.id,
      ...(person ? { identity: person } : {}),
      ...(claims.sid ? { upstreamSid: claims.sid } : {}),
      sessionsEnded: ended,
    });
    return c.body(null, 200);
  });
  return app;
}
