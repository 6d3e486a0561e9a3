import { Hono } from "hono";
import type { AppEnv } from "./env.js";
import { authorizeEndpoint } from "./oidc/authorize.js";
import { OIDC_PATHS, type OidcProviderDeps } from "./oidc/deps.js";
import { deviceRoutes } from "./oidc/device.js";
import { discoveryRoutes } from "./oidc/discovery.js";
import { endSessionEndpoint } from "./oidc/end-session.js";
import { introspectionEndpoint } from "./oidc/introspection.js";
import { revocationEndpoint } from "./oidc/revocation.js";
import { tokenEndpoint } from "./oidc/token.js";
import { userinfoEndpoint } from "./oidc/userinfo.js";

export { OIDC_PATHS, type OidcProviderDeps } from "./oidc/deps.js";

/**
 * Archway as an OpenID Provider: discovery, authorize, token, userinfo, revocation, introspection, end session and
 * the device flow, one file per endpoint under `oidc/`. JWKS is served by `well-known.ts` for every token Archway
 * signs.
 */
export function oidcProvider(deps: OidcProviderDeps) {
  const app = new Hono<AppEnv>();
  app.route("/", discoveryRoutes(deps));
  app.on(["GET", "POST"], OIDC_PATHS.authorize, authorizeEndpoint(deps));
  app.post(OIDC_PATHS.token, tokenEndpoint(deps));
  app.on(["GET", "POST"], OIDC_PATHS.userinfo, userinfoEndpoint(deps));
  app.post(OIDC_PATHS.revoke, revocationEndpoint(deps));
  app.post(OIDC_PATHS.introspect, introspectionEndpoint(deps));
  app.on(["GET", "POST"], OIDC_PATHS.logout, endSessionEndpoint(deps));
  app.route("/", deviceRoutes(deps));
  return app;
}
