import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "undici";
import { stringify } from "yaml";
import { buildGateway, type Gateway, gatewayApp } from "../../../src/cli/gateway.js";
import { buildRuntime, type Runtime } from "../../../src/cli/runtime.js";
import { scheduleSyncRuns } from "../../../src/cli/schedule.js";
import { type RunningServer, startServer } from "../../../src/http/index.js";
import { deleteKeystoneDomain } from "../../env/control.js";
import { type Endpoints, loadEndpoints } from "../../env/endpoints.js";
import { captureIO } from "../../helpers/io.js";
import { deleteRedisPrefix } from "./harness.js";
import { SsoBrowser } from "./sso-browser.js";

/** The test upstream's client registered with a back-channel logout URI on this port (test/env/oidc/provider.mjs). */
export const SSO_PORT = 18082;
export const SSO_CLIENT = { id: "archway-bcl", secret: "archway-bcl-secret" };
/** Archway's own OAuth client in the harness (authorization code, refresh). */
export const RP = { id: "bcl-rp", secret: "bcl-rp-secret", redirectUri: "http://127.0.0.1:18099/cb" };

/** Archway with the real oidc-provider as its `corp` source, a Redis store of this run, looks every `detectSeconds`. */
export interface SsoHarness {
  env: Endpoints;
  url: string;
  runtime: Runtime;
  gateway: Gateway;
  /** Trusts the test CA (the upstream is https). */
  dispatcher: Agent;
  /** A new browser that signed in to Archway's pages through the upstream as `username`. */
  signIn(username: string, password: string): Promise<SsoBrowser>;
  /** Signs the browser out at the upstream (its end_session endpoint, "yes, sign me out"). */
  upstreamLogout(browser: SsoBrowser): Promise<void>;
  /** Code flow at Archway's OpenID Provider with the browser's session: an access token and an offline refresh token. */
  oauthTokens(browser: SsoBrowser): Promise<{ accessToken: string; refreshToken: string }>;
  close(): Promise<void>;
}

/** Starts the harness (fixed port: the upstream's registered logout URI points at it). */
export async function startSsoHarness(opts: {
  detectSeconds: number;
  refreshFailure?: "end-sessions" | "offboard" | "off";
  /** The `corp` source's `mfa` mode (docs/mfa.md). */
  mfa?: "required" | "optional";
}): Promise<SsoHarness> {
  const env = loadEndpoints();
  const run = randomBytes(4).toString("hex");
  const dir = join(tmpdir(), `archway-sso-${run}`);
  mkdirSync(join(dir, "policies"), { recursive: true });
  const domain = `sso-${run}`;
  const keyPrefix = `archway-sso-${run}:`;
  const url = `http://127.0.0.1:${SSO_PORT}`;
  const config = {
    deploymentId: "offboard-sso-it",
    listen: { host: "127.0.0.1", port: SSO_PORT },
    publicUrl: url,
    store: { type: "redis", url: env.redis.url, keyPrefix },
    secrets: {
      shadowPasswordKey: randomBytes(16).toString("hex"),
      sessionKey: randomBytes(32).toString("hex"),
      storeKey: randomBytes(32).toString("hex"),
    },
    identity: {
      sources: [
        {
          id: "corp",
          type: "oidc",
          issuer: env.oidc.issuer,
          clientId: SSO_CLIENT.id,
          clientSecret: SSO_CLIENT.secret,
          caFile: env.oidc.caFile,
          scopes: ["openid", "email", "profile", "groups"],
          ...(opts.refreshFailure ? { refreshFailure: opts.refreshFailure } : {}),
          ...(opts.mfa ? { mfa: opts.mfa } : {}),
        },
      ],
    },
    idp: {
      clients: [
        {
          id: RP.id,
          secret: RP.secret,
          redirectUris: [RP.redirectUri],
          grants: ["authorization_code", "refresh_token"],
          scopes: ["openid", "offline_access"],
        },
      ],
    },
    clouds: env.keystones.map((k) => ({
      id: k.id,
      authUrl: k.authUrl,
      region: k.region,
      domain,
      timeoutMs: 3_000,
      admin: { username: k.adminUsername, password: k.adminPassword, projectName: k.adminProject },
    })),
    policiesDir: "policies",
    log: { level: "warn" },
    sync: { intervalSeconds: 900, incrementalSeconds: 0 },
    offboard: { detectSeconds: opts.detectSeconds, retrySeconds: 1 },
  };
  writeFileSync(join(dir, "archway.yaml"), stringify(config));
  writeFileSync(
    join(dir, "policies", "people.yaml"),
    stringify({
      apiVersion: "archway.dev/v1",
      kind: "AccessPolicy",
      metadata: { name: "people" },
      spec: {
        subjects: { sources: ["corp"] },
        grants: [{ project: "u-{{ username }}", roles: ["member"], create: true }],
        keys: false,
      },
    }),
  );
  const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
  const gateway = buildGateway(runtime);
  const { app } = gatewayApp(runtime, gateway);
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port: SSO_PORT, log: runtime.log });
  const stopSchedule = gateway.sync ? scheduleSyncRuns(runtime, gateway.sync, gateway.offboard) : () => {};
  const dispatcher = new Agent({ connect: { ca: readFileSync(env.ca.certFile) } });
  return {
    env,
    url,
    runtime,
    gateway,
    dispatcher,
    async signIn(username, password) {
      const browser = new SsoBrowser(dispatcher);
      const login = await browser.go(`${url}/login`);
      const upstream = await browser.submit(login, {}, /\/login\/sso\/corp$/);
      const back = await browser.submit(upstream, { login: username, password });
      if (back.status !== 200 || !back.url.startsWith(url))
        throw new Error(`SSO sign-in of ${username} ended at ${back.status} ${back.url}: ${back.html.slice(0, 200)}`);
      return browser;
    },
    async upstreamLogout(browser) {
      const confirm = await browser.go(`${env.oidc.issuer}/session/end`);
      const done = await browser.submit(confirm, { logout: "yes" });
      if (done.status !== 200) throw new Error(`upstream logout: ${done.status} ${done.html.slice(0, 200)}`);
    },
    async oauthTokens(browser) {
      const verifier = randomBytes(32).toString("base64url");
      const challenge = createHash("sha256").update(verifier).digest("base64url");
      const q = new URLSearchParams({
        response_type: "code",
        client_id: RP.id,
        redirect_uri: RP.redirectUri,
        scope: "openid offline_access",
        state: "s",
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const res = await fetch(`${url}/oauth2/authorize?${q}`, {
        redirect: "manual",
        headers: { cookie: browser.cookies(url) },
      });
      await res.arrayBuffer();
      const code = new URL(res.headers.get("location") ?? "", url).searchParams.get("code");
      if (!code) throw new Error(`authorize: ${res.status} ${res.headers.get("location")}`);
      const token = await fetch(`${url}/oauth2/token`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: `Basic ${Buffer.from(`${RP.id}:${RP.secret}`).toString("base64")}`,
        },
        body: new URLSearchParams({
          grant_type: "authorization_code",
          code,
          redirect_uri: RP.redirectUri,
          code_verifier: verifier,
        }),
      });
      const body = (await token.json()) as { access_token?: string; refresh_token?: string };
      if (!body.access_token || !body.refresh_token) throw new Error(`token: ${token.status} ${JSON.stringify(body)}`);
      return { accessToken: body.access_token, refreshToken: body.refresh_token };
    },
    async close() {
      stopSchedule();
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
      await dispatcher.close();
      await Promise.all(env.keystones.map((k) => deleteKeystoneDomain(k.id, k.authUrl, domain)));
      await deleteRedisPrefix(env.redis.url, keyPrefix);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Revokes every grant of `account` at the test upstream (test/env/oidc/provider.mjs's admin path). */
export async function revokeUpstreamGrants(h: SsoHarness, account: string): Promise<number> {
  const res = await fetch(`${h.env.oidc.issuer}/test-admin/revoke-grants/${encodeURIComponent(account)}`, {
    method: "POST",
    dispatcher: h.dispatcher,
  } as RequestInit);
  if (res.status !== 200)
    throw new Error(`revoke-grants: ${res.status} (is the upstream test/env/oidc/provider.mjs of branch bcl?)`);
  return ((await res.json()) as { revoked: number }).revoked;
}
