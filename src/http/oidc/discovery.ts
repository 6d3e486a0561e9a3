import { Hono } from "hono";
import type { AppEnv } from "../env.js";
import { OIDC_PATHS, type OidcProviderDeps } from "./deps.js";

/** `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, RFC 8414 fields included). */
export function discoveryRoutes(deps: OidcProviderDeps) {
  const at = (path: string) => `${deps.issuer}${path}`;
  const document = {
    issuer: deps.issuer,
    authorization_endpoint: at(OIDC_PATHS.authorize),
    token_endpoint: at(OIDC_PATHS.token),
    userinfo_endpoint: at(OIDC_PATHS.userinfo),
    jwks_uri: at(OIDC_PATHS.jwks),
    revocation_endpoint: at(OIDC_PATHS.revoke),
    introspection_endpoint: at(OIDC_PATHS.introspect),
    end_session_endpoint: at(OIDC_PATHS.logout),
    device_authorization_endpoint: at(OIDC_PATHS.deviceAuthorization),
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [
      "authorization_code",
      "refresh_token",
      "password",
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:device_code",
    ],
    subject_types_supported: ["public"],
    // Every algorithm the ring holds a key for: a client's `idTokenSignedResponseAlg` picks one (RS256 by default
    // in the ring, as Discovery requires of every provider).
    id_token_signing_alg_values_supported: [...deps.algorithms],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    revocation_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
    code_challenge_methods_supported: ["S256"],
    scopes_supported: ["openid", "profile", "email", "groups", "offline_access"],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "preferred_username",
      "name",
      "email",
      "groups",
    ],
    prompt_values_supported: ["none", "login"],
    authorization_response_iss_parameter_supported: true,
  };
  const app = new Hono<AppEnv>();
  app.get("/.well-known/openid-configuration", (c) => {
    c.header("cache-control", "public, max-age=300");
    return c.json(document);
  });
  return app;
}
