// The token endpoint benchmark's peer: oidc-provider (panva) configured as Archway's provider is: ES256 JWT access
// tokens (RFC 9068), rotating refresh tokens, ID tokens on refresh, client_secret_basic with plain secrets.
// The login interaction signs in "alice" at once (no form), so the benchmark can get refresh tokens headlessly.
// Usage: node oidc-provider.mjs <port>   (prints "listening on http://127.0.0.1:<port>")
import { createServer } from "node:http";
import { calculateJwkThumbprint, exportJWK, generateKeyPair } from "jose";
import Provider from "oidc-provider";

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const resource = `${issuer}/resource`;
const { privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwk = await exportJWK(privateKey);
const kid = await calculateJwkThumbprint(jwk);
const rsInfo = { scope: "api", audience: resource, accessTokenFormat: "jwt", jwt: { sign: { alg: "ES256" } } };

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "svc",
      client_secret: "svc-secret",
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      id_token_signed_response_alg: "ES256",
    },
    {
      client_id: "rt",
      client_secret: "rt-secret",
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      redirect_uris: ["http://127.0.0.1:18999/cb"],
      id_token_signed_response_alg: "ES256",
    },
  ],
  jwks: { keys: [{ ...jwk, kid, use: "sig", alg: "ES256" }] },
  cookies: { keys: ["bench-cookie-key"] },
  scopes: ["openid", "offline_access", "api"],
  pkce: { required: () => true },
  rotateRefreshToken: true,
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => rsInfo,
    },
  },
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  ttl: { AccessToken: 900, ClientCredentials: 900, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope("openid offline_access");
    grant.addResourceScope(resource, "api");
    await grant.save();
    return grant;
  },
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

const callback = provider.callback();
createServer(async (req, res) => {
  const m = /^\/interaction\/([^/?]+)/.exec(req.url ?? "");
  if (m) {
    await provider.interactionFinished(req, res, { login: { accountId: "alice" } }, { mergeWithLastSubmission: false });
    return;
  }
  callback(req, res);
}).listen(port, "127.0.0.1", () => console.log(`listening on ${issuer}`));
