// The upstream corporate SSO for tests: oidc-provider over https (throwaway CA) with a password-checking login
// form and auto-consent, PKCE required, groups in the ID token, refresh tokens and RP-initiated logout.
// Back-channel logout (OIDC Back-Channel Logout 1.0) to the archway-bcl client, and a test-only admin path that
// revokes an account's grants (the upstream ending a person's access) or signs a given payload with the provider's
// key (genuine logout tokens wrong in one claim), for the offboarding tests.
// Usage: node provider.mjs <port> <cert> <key> <state-file>   (writes {"issuer": ...} to state-file when ready)
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";
import Provider from "oidc-provider";

const [port, certFile, keyFile, stateFile] = process.argv.slice(2);
const issuer = `https://127.0.0.1:${port}`;

export const USERS = {
  alice: { password: "alice-pw", email: "alice@example.org", name: "Alice Anders", groups: ["admins", "devs"] },
  bob: { password: "bob-pw", email: "bob@example.org", name: "Bob Berg", groups: ["devs"] },
  carol: { password: "carol-pw", email: "carol@example.org", name: "Carol Contractor", groups: ["contractors"] },
};
export const REDIRECT_URIS = ["http://127.0.0.1:18080/callback", "http://127.0.0.1:18081/auth/oidc/corp/callback"];

const { privateKey } = await generateKeyPair("RS256", { extractable: true });
const jwk = await exportJWK(privateKey);
const kid = await calculateJwkThumbprint(jwk);
const client = (id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  redirect_uris: REDIRECT_URIS,
  post_logout_redirect_uris: ["http://127.0.0.1:18080/logged-out"],
  grant_types: ["authorization_code", "refresh_token"],
  response_types: ["code"],
  token_endpoint_auth_method: "client_secret_basic",
});

// Archway's offboarding tests on port 18082: sign-in through the web pages, logout tokens posted back.
const BCL = "http://127.0.0.1:18082";
const bclClient = {
  ...client("archway-bcl"),
  redirect_uris: [`${BCL}/login/sso/corp/callback`],
  post_logout_redirect_uris: [`${BCL}/login?signed_out`],
  backchannel_logout_uri: `${BCL}/login/sso/corp/backchannel-logout`,
  backchannel_logout_session_required: true,
};
// accountId -> grant ids, to revoke an account's grants from the admin path.
const grantsOf = new Map();

const provider = new Provider(issuer, {
  clients: [client("archway"), client("archway-short"), bclClient],
  jwks: { keys: [{ ...jwk, kid, use: "sig", alg: "RS256" }] },
  cookies: { keys: ["archway-test-cookie-key"] },
  claims: {
    // `amr`/`acr`: how the login went (form fields, see authOf), in the ID token whenever the login set them.
    openid: ["sub", "acr", "amr"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username"],
    groups: ["groups"],
  },
  scopes: ["openid", "offline_access", "email", "profile", "groups"],
  conformIdTokenClaims: false,
  // Everything here is on loopback, which oidc-provider's SSRF guard refuses: logout tokens go to Archway on 127.0.0.1.
  fetch: (url, { dispatcher: _ssrfGuard, ...options }) => globalThis.fetch(url, options),
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  // Refresh tokens for every client that may use them, even without offline_access consent screens.
  issueRefreshToken: async (_ctx, c, code) => c.grantTypeAllowed("refresh_token") && code.scopes.has("openid"),
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: (_ctx, _token, c) => (c?.clientId === "archway-short" ? 2 : 3600),
    RefreshToken: 86400,
    Interaction: 600,
    Session: 3600,
    Grant: 86400,
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  // First-party clients: consent is implied, so the only interaction is the login form.
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope([...(ctx.oidc.requestParamScopes ?? ["openid"])].join(" "));
    await grant.save();
    grantsOf.set(grant.accountId, [...(grantsOf.get(grant.accountId) ?? []), grant.jti]);
    return grant;
  },
  async findAccount(_ctx, sub) {
    const u = USERS[sub];
    if (!u) return undefined;
    return {
      accountId: sub,
      claims: async () => ({
        sub,
        email: u.email,
        email_verified: true,
        name: u.name,
        preferred_username: sub,
        groups: u.groups,
      }),
    };
  },
});
provider.on("server_error", (_ctx, err) => console.error("oidc server_error", err));
provider.on("backchannel.error", (_ctx, err, client) => console.error("oidc backchannel.error", client.clientId, err));

// How the login reports it authenticated: form fields `amr` (comma-separated RFC 8176 values, e.g. `pwd,mfa`) and
// `acr`, for tests of multi-factor policies; absent, the ID token has neither claim.
const authOf = (form) => ({
  ...(form.get("amr") ? { amr: form.get("amr").split(",") } : {}),
  ...(form.get("acr") ? { acr: form.get("acr") } : {}),
});
const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const callback = provider.callback();
// Test-only: POST /test-admin/revoke-grants/<account> destroys every grant of the account, as an administrator
// revoking a person's access upstream would (their refresh tokens are refused with invalid_grant from then on).
async function revokeGrants(accountId) {
  const ids = grantsOf.get(accountId) ?? [];
  grantsOf.delete(accountId);
  for (const id of ids) {
    const grant = await provider.Grant.find(id);
    await grant?.destroy();
    await provider.RefreshToken.adapter.revokeByGrantId(id);
  }
  return ids.length;
}

const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, async (req, res) => {
  // Test-only: POST /test-admin/sign with a JSON payload answers it signed with this provider's own key, for
  // logout tokens that are genuine but wrong in one claim (another audience, old, no event, a nonce...).
  if (req.method === "POST" && req.url === "/test-admin/sign") {
    let body = "";
    for await (const chunk of req) body += chunk;
    const jws = await new SignJWT(JSON.parse(body))
      .setProtectedHeader({ alg: "RS256", kid, typ: "logout+jwt" })
      .sign(privateKey);
    res.setHeader("content-type", "application/jwt");
    return res.end(jws);
  }
  const admin = req.method === "POST" ? req.url?.match(/^\/test-admin\/revoke-grants\/([^/?]+)$/) : null;
  if (admin) {
    const revoked = await revokeGrants(decodeURIComponent(admin[1]));
    res.setHeader("content-type", "application/json");
    return res.end(JSON.stringify({ revoked }));
  }
  const match = req.url?.match(/^\/interaction\/([^/?]+)$/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === "GET") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      return res.end(
        `<!doctype html><title>Corp SSO</title><form method="post" action="/interaction/${escapeHtml(details.uid)}">` +
          `<label>User <input name="login"></label><label>Password <input name="password" type="password"></label>` +
          `<button>Sign in</button></form>`,
      );
    }
    let body = "";
    for await (const chunk of req) body += chunk;
    const form = new URLSearchParams(body);
    const user = USERS[form.get("login") ?? ""];
    const result =
      user && user.password === form.get("password")
        ? { login: { accountId: form.get("login"), ...authOf(form) } }
        : { error: "access_denied", error_description: "invalid credentials" };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  } catch (err) {
    res.statusCode = 500;
    res.end(String(err));
  }
});
server.listen(Number(port), "127.0.0.1", () => {
  writeFileSync(stateFile, JSON.stringify({ issuer }));
  console.log(`oidc-provider listening on ${issuer}`);
});
