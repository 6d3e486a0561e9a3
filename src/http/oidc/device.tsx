import { type Context, Hono } from "hono";
import { z } from "zod";
import { type AppEnv, clientIp } from "../env.js";
import { CsrfField, Layout, Notice, type PageUser, renderPage } from "../web/layout.js";
import { pageHeaders } from "../web/security.js";
import type { WebSession } from "../web/session.js";
import { OIDC_PATHS, type OidcProviderDeps } from "./deps.js";
import { DeviceCodeLimiter, DeviceStartLimiter } from "./device-limit.js";
import { OAuthError, oauthEndpoint } from "./errors.js";
import { authenticateClient, grantedScope, readParams } from "./params.js";
import { resourceTarget } from "./token.js";

const Decision = z.object({
  csrf: z.string().max(200).optional(),
  user_code: z.string().trim().min(1).max(20),
  decision: z.enum(["approve", "deny"]),
});

/**
 * The device authorization grant (RFC 8628): `POST /oauth2/device_authorization` starts it for a client such as a
 * CLI on a machine without a browser; the person opens `/device`, signs in, checks the code and approves or denies.
 * Failed user-code lookups are limited per person and per client address (see `device-limit.ts`); past a limit the
 * page answers 429 for every code, and an unknown code looks exactly like an expired one. Starts are limited per
 * client address too: past the limit the endpoint answers 429 `slow_down` with a Retry-After (RFC 8628 has no code
 * of its own for this; `slow_down` is the one device clients already back off on).
 */
export function deviceRoutes(deps: OidcProviderDeps) {
  const app = new Hono<AppEnv>();
  const limiter = new DeviceCodeLimiter(deps.store);
  const starts = new DeviceStartLimiter(deps.store);

  /** The pending request `userCode` names, through the limiter; a Response when the caller is refused. */
  const findLimited = async (c: Context<AppEnv>, session: WebSession, user: PageUser, userCode: string) => {
    const caller = { personId: session.identity.id, clientIp: clientIp(c) };
    const result = await limiter.lookup(caller, () => deps.devices.find(userCode));
    if (!result.limited) return result.found;
    await deps.audit({
      type: "oauth.device_code_limited",
      actor: caller.personId,
      clientIp: caller.clientIp,
      limit: result.by,
    });
    c.header("retry-after", String(limiter.retryMinutes * 60));
    return renderPage(
      c,
      <Layout title="Connect a device" user={user}>
        <Notice
          kind="error"
          text={`Too many codes did not match. Wait ${limiter.retryMinutes} minutes, then enter the code again (or start again on the device for a new one).`}
        />
      </Layout>,
      429,
    );
  };

  app.post(
    OIDC_PATHS.deviceAuthorization,
    oauthEndpoint(async (c: Context<AppEnv>) => {
      const params = await readParams(c);
      const client = await authenticateClient(c, params, deps.clients);
      if (!client.grants.includes("urn:ietf:params:oauth:grant-type:device_code"))
        throw new OAuthError("unauthorized_client", `client ${client.id} may not use the device flow`);
      const ip = clientIp(c);
      if (!(await starts.allow(ip))) {
        await deps.audit({ type: "oauth.device_start_limited", actor: client.id, clientIp: ip });
        c.header("retry-after", String(starts.retrySeconds));
        throw new OAuthError(
          "slow_down",
          `too many device flows started from this address; try again in ${starts.retrySeconds} seconds`,
          429,
        );
      }
      const started = await deps.devices.start({
        clientId: client.id,
        scope: grantedScope(params.scope, client),
        ...resourceTarget(deps, client, params.resource),
      });
      const verification = `${deps.issuer}${OIDC_PATHS.device}`;
      c.header("cache-control", "no-store");
      return c.json({
        device_code: started.deviceCode,
        user_code: started.userCode,
        verification_uri: verification,
        verification_uri_complete: `${verification}?user_code=${encodeURIComponent(started.userCode)}`,
        expires_in: started.expiresInSeconds,
        interval: deps.config.devicePollSeconds,
      });
    }),
  );

  app.use(OIDC_PATHS.device, pageHeaders([]));

  app.get(OIDC_PATHS.device, async (c) => {
    const session = await deps.web.read(c);
    const userCode = new URL(c.req.url).searchParams.get("user_code")?.slice(0, 20) ?? "";
    if (!session) return toLogin(c, userCode);
    const csrf = deps.web.csrfToken(session);
    const user = { username: session.identity.username, isAdmin: false, csrf };
    const found = userCode ? await findLimited(c, session, user, userCode) : null;
    if (found instanceof Response) return found;
    if (!found) {
      return renderPage(
        c,
        <Layout title="Connect a device" user={user}>
          <Notice kind="error" text={userCode ? "That code is unknown or has expired." : undefined} />
          <form method="get" action={OIDC_PATHS.device} class="card">
            <h1>Connect a device</h1>
            <label for="user_code">Code shown on the device</label>
            <input id="user_code" name="user_code" autocomplete="off" required value={userCode} />
            <button type="submit">Continue</button>
          </form>
        </Layout>,
        userCode ? 404 : 200,
      );
    }
    const client = deps.clients.get(found.request.clientId);
    return renderPage(
      c,
      <Layout title="Connect a device" user={user}>
        <form method="post" action={OIDC_PATHS.device} class="card">
          <h1>Connect a device</h1>
          <p>
            <strong>{client?.name ?? found.request.clientId}</strong> asks to act as{" "}
            <strong>{session.identity.username}</strong>
            {found.request.cloudId ? ` in cloud ${found.request.cloudId}` : ""}
            {found.request.facade ? " with the openstack CLI, in every project you hold" : ""}.
          </p>
          <p>
            Code: <strong>{found.request.userCode.replace(/^(.{4})/, "$1-")}</strong>. Approve only if the device shows
            the same code.
          </p>
          <CsrfField token={csrf} />
          <input type="hidden" name="user_code" value={userCode} />
          <button type="submit" name="decision" value="approve">
            Approve
          </button>{" "}
          <button type="submit" name="decision" value="deny" class="secondary">
            Deny
          </button>
        </form>
      </Layout>,
    );
  });

  app.post(OIDC_PATHS.device, async (c) => {
    const session = await deps.web.read(c);
    if (!session) return toLogin(c, "");
    const parsed = Decision.safeParse(await c.req.parseBody());
    if (!parsed.success || !deps.web.checkCsrf(session, parsed.data.csrf))
      return c.text("This form has expired or did not come from Archway; go back and try again.", 403);
    const { user_code, decision } = parsed.data;
    const user = { username: session.identity.username, isAdmin: false, csrf: deps.web.csrfToken(session) };
    const found = await findLimited(c, session, user, user_code);
    if (found instanceof Response) return found;
    const done = (text: string, status: 200 | 404 = 200) =>
      renderPage(
        c,
        <Layout title="Connect a device" user={user}>
          <Notice kind={status === 200 ? "ok" : "error"} text={text} />
        </Layout>,
        status,
      );
    if (!found) return done("That code is unknown or has expired.", 404);
    const grant =
      decision === "approve"
        ? {
            approve: {
              clientId: found.request.clientId,
              identity: session.identity,
              scope: found.request.scope,
              cloudId: found.request.cloudId,
              ...(found.request.facade ? { facade: true } : {}),
              authTime: session.authTime,
              // The device's tokens hang off the session that approved it.
              ...(session.sid ? { sid: session.sid, sessionEnd: session.sessionEnd } : {}),
              ...(session.amr ? { amr: session.amr } : {}),
            },
          }
        : { deny: true as const };
    await deps.devices.decide(user_code, grant);
    await deps.audit({
      type: decision === "approve" ? "oauth.device_approved" : "oauth.device_denied",
      actor: session.identity.id,
      client: found.request.clientId,
    });
    return done(decision === "approve" ? "Device connected. You can close this page." : "Request denied.");
  });

  return app;
}

function toLogin(c: Context, userCode: string): Response {
  const back = userCode ? `${OIDC_PATHS.device}?user_code=${encodeURIComponent(userCode)}` : OIDC_PATHS.device;
  return c.redirect(`/login?return_to=${encodeURIComponent(back)}`, 303);
}
