import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import { Client } from "ldapts";
import * as oidc from "openid-client";
import { Agent } from "undici";
import { describe, expect, it } from "vitest";
import { keystoneAdminToken } from "../../env/control.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { browserLogin } from "../../helpers/oidc-browser.js";

// Each real server of the test environment answers the way the rest of the suite relies on.
const env = loadEndpoints();

describe("test environment smoke", () => {
  it("redis answers PING", async () => {
    const redis = new Redis(env.redis.url, { lazyConnect: true });
    await redis.connect();
    expect(await redis.ping()).toBe("PONG");
    redis.disconnect();
  });

  describe.each(env.keystones)("keystone $id", (ks) => {
    it("issues an admin token whose catalog lists compute in its own region", async () => {
      const token = await keystoneAdminToken(ks.id);
      const res = await fetch(`${ks.authUrl}/auth/catalog`, { headers: { "x-auth-token": token } });
      const { catalog } = (await res.json()) as {
        catalog: { type: string; endpoints: { region_id: string; url: string }[] }[];
      };
      const compute = catalog.find((s) => s.type === "compute");
      const nova = env.novas.find((n) => n.cloud === ks.id)!;
      expect(compute?.endpoints).toContainEqual(expect.objectContaining({ region_id: ks.region, url: nova.url }));
    });
  });

  describe.each(env.novas)("nova for $cloud", (nova) => {
    it("lists keypairs with a real Keystone token and refuses without one", async () => {
      const token = await keystoneAdminToken(nova.cloud);
      const ok = await fetch(`${nova.url}/os-keypairs`, { headers: { "x-auth-token": token } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toHaveProperty("keypairs");
      const refused = await fetch(`${nova.url}/os-keypairs`);
      expect(refused.status).toBe(401);
    });
  });

  it("slapd: the service account binds and sees memberOf, entryUUID and SSH keys", async () => {
    const client = new Client({ url: env.ldap.url });
    await client.bind(env.ldap.bindDn, env.ldap.bindPassword);
    const { searchEntries } = await client.search(env.ldap.peopleDn, {
      filter: "(uid=user0003)",
      attributes: ["uid", "memberOf", "sshPublicKey", "entryUUID"],
    });
    await client.unbind();
    expect(searchEntries).toHaveLength(1);
    const entry = searchEntries[0]!;
    expect(entry.memberOf).toEqual(
      expect.arrayContaining([`cn=group03,${env.ldap.groupsDn}`, `cn=everyone,${env.ldap.groupsDn}`]),
    );
    expect(String(entry.sshPublicKey)).toMatch(/^ssh-ed25519 AAAA\S+ user0003@example$/);
    expect(String(entry.entryUUID)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("slapd answers ldaps with the test CA", async () => {
    const client = new Client({ url: env.ldap.ldapsUrl, tlsOptions: { ca: [readFileSync(env.ca.certFile)] } });
    await client.bind(env.ldap.bindDn, env.ldap.bindPassword);
    await client.unbind();
  });

  it("oidc-provider serves discovery over https and completes a headless code + PKCE login", async () => {
    const dispatcher = new Agent({ connect: { ca: readFileSync(env.oidc.caFile) } });
    const config = await oidc.discovery(new URL(env.oidc.issuer), "archway", "archway-secret", undefined, {
      [oidc.customFetch]: (url: string, init: RequestInit) => fetch(url, { ...init, dispatcher } as RequestInit),
    } as oidc.DiscoveryRequestOptions);
    config[oidc.customFetch] = (url, init) => fetch(url, { ...init, dispatcher } as RequestInit);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const redirectUri = "http://127.0.0.1:18080/callback";
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: "openid email profile groups",
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    const callback = await browserLogin(url, redirectUri, { login: "alice", password: "alice-pw" }, dispatcher);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect(tokens.claims()).toMatchObject({ sub: "alice", groups: ["admins", "devs"], email: "alice@example.org" });
  });
});
