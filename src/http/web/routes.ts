import { Hono } from "hono";
import { adminRoutes } from "./admin.js";
import { adminAuditRoutes } from "./admin-audit.js";
import { adminHistoryRoutes } from "./admin-history.js";
import { adminImageRoutes } from "./admin-images.js";
import { adminLockoutRoutes } from "./admin-lockouts.js";
import { adminPeopleRoutes } from "./admin-people.js";
import { adminQuotaRoutes } from "./admin-quotas.js";
import { apiRoutes } from "./api.js";
import { APP_CREDENTIAL_PATHS, appCredentialRoutes } from "./app-credentials.js";
import { backchannelLogoutRoutes } from "./backchannel-logout.js";
import { CLI_PATH, cliRoutes } from "./cli.js";
import type { WebDeps } from "./deps.js";
import { webError } from "./errors.js";
import { homeRoutes } from "./home.js";
import { loginRoutes } from "./login.js";
import { mfaLoginRoutes } from "./mfa-login.js";
import { MFA_PATHS, mfaPageRoutes } from "./mfa-page.js";
import { PASSKEY_PATHS, passkeyLoginRoutes, passkeyManageRoutes } from "./passkeys/index.js";
import { pageHeaders, type WebEnv } from "./security.js";
import { SESSION_PATHS, sessionRoutes } from "./sessions.js";
import { ssoRoutes } from "./sso.js";
import { styleRoutes } from "./style.js";

/** Paths the web routes own (their security headers apply here only). */
export const WEB_PATHS = [
  "/",
  "/login",
  "/login/*",
  "/logout",
  "/keys",
  "/keys/*",
  "/admin",
  "/admin/*",
  "/api/v1/*",
  CLI_PATH,
  ...APP_CREDENTIAL_PATHS,
  ...SESSION_PATHS,
  ...MFA_PATHS,
  ...PASSKEY_PATHS,
];

/**
 * Every web route: the stylesheet, `/login` and `/logout`, `/` and its key forms, `/admin/...`, and `/api/v1/...`.
 * `formTargets` are the origins of upstream SSO providers (the CSP lets forms redirect there).
 */
export function webRoutes(deps: WebDeps, opts: { formTargets?: readonly string[] } = {}) {
  const app = new Hono<WebEnv>();
  app.onError(webError);
  app.route("/", styleRoutes());
  // Only the web paths: a `*` here would also wrap the facade and the proxy mounted beside these routes.
  const headers = pageHeaders(opts.formTargets ?? []);
  for (const path of WEB_PATHS) app.use(path, headers);
  app.route("/", loginRoutes(deps));
  app.route("/", ssoRoutes(deps));
  app.route("/", cliRoutes(deps));
  app.route("/", mfaLoginRoutes(deps));
  // Before the API and admin routes: it brings its own guards for its paths under /admin and /api/v1.
  app.route("/", mfaPageRoutes(deps));
  app.route("/", passkeyLoginRoutes(deps));
  app.route("/", passkeyManageRoutes(deps));
  app.route("/", backchannelLogoutRoutes(deps));
  app.route("/", homeRoutes(deps));
  // Before the API and admin routes: it brings its own guards for its paths under /admin and /api/v1.
  app.route("/", sessionRoutes(deps));
  app.route("/", adminRoutes(deps));
  app.route("/", adminAuditRoutes(deps));
  app.route("/", adminHistoryRoutes(deps));
  app.route("/", adminLockoutRoutes(deps));
  app.route("/", adminPeopleRoutes(deps));
  // Before the API routes: it brings its own guards for /api/v1/admin/quotas.
  app.route("/", adminQuotaRoutes(deps));
  // Before the API routes: it brings its own guards for /api/v1/admin/images.
  app.route("/", adminImageRoutes(deps));
  app.route("/", appCredentialRoutes(deps));
  app.route("/", apiRoutes(deps));
  return app;
}
