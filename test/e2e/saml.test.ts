import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGateway, gatewayApp } from "../../src/cli/gateway.js";
import { buildRuntime } from "../../src/cli/runtime.js";
import { type RunningServer, startServer } from "../../src/http/index.js";
import { loadEndpoints } from "../env/endpoints.js";
import { captureIO } from "../helpers/io.js";
import { launchChromium } from "./web-harness.js";

// SAML in, OIDC out: headless Chromium signs in through the real SimpleSAMLphp to Archway's pages (the IdP's
// cross-site POST to the ACS), then a relying party gets a code from Archway's /oauth2/authorize on that session.
const PORT = 18096; // registered at the IdP as http://127.0.0.1:18096/login/sso/corp-saml
const URL_BASE = `http://127.0.0.1:${PORT}`;
const RP = { id: "saml-rp", redirectUri: "http://127.0.0.1:18097/cb" };

describe("SAML sign-in in a real browser, then Archway as an OpenID Provider", () => {
  const env = loadEndpoints();
  const saml = env.samlIdp;
  let dir: string;
  let server: RunningServer;
  let close: () => Promise<void>;
  let browser: Browser;

  beforeAll(async () => {
    if (!saml) throw new Error("the test environment has no samlIdp");
    dir = mkdtempSync(join(tmpdir(), "archway-saml-"));
    writeFileSync(
      join(dir, "archway.yaml"),
      `demo: true\nlisten: { host: 127.0.0.1, port: ${PORT} }\npublicUrl: ${URL_BASE}\n` +
        `secrets: { sessionKey: "${randomBytes(32).toString("base64url")}" }\n` +
        "identity:\n  sources:\n    - id: corp-saml\n      type: saml\n      displayName: Corp SAML\n" +
        `      idp: { metadataUrl: "${saml.metadataUrl}", caFile: "${saml.caFile}" }\n` +
        `      sp: { privateKey: "\${file:${saml.spKeyFile}}", certificate: "\${file:${saml.spCertFile}}" }\n` +
        `idp:\n  clients:\n    - id: ${RP.id}\n      public: true\n      redirectUris: ["${RP.redirectUri}"]\n` +
        "policiesDir: policies\nlog: { level: warn }\n",
    );
    mkdirSync(join(dir, "policies")); // no clouds, no policies: the sign-in and the OpenID Provider need none
    const runtime = buildRuntime(join(dir, "archway.yaml"), captureIO(process.env));
    const gateway = buildGateway(runtime);
    const { app } = gatewayApp(runtime, gateway);
    server = await startServer(app, { host: "127.0.0.1", port: PORT, log: runtime.log });
    close = async () => {
      await server.close(1_000);
      await gateway.close();
      await runtime.close();
    };
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs alice in through SimpleSAMLphp and hands a relying party a code for her", async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${URL_BASE}/login`);
    await page.getByRole("button", { name: "Sign in with Corp SAML" }).click();
    await page.waitForURL(/simplesamlphp/);
    await page.locator('input[name="username"]').fill("alice");
    await page.locator('input[name="password"]').fill("alice-pw");
    await page.locator('input[name="password"]').press("Enter");
    // The IdP's auto-POST to the ACS, then Archway's home page, signed in.
    await page.waitForURL(`${URL_BASE}/`, { timeout: 20_000 });
    const home = await page.content();
    expect(home).toContain("Alice Anders");
    expect(home).toContain("Sign-in (corp-saml)");
    const cookies = await context.cookies(URL_BASE);
    expect(cookies.find((c) => c.name.endsWith("archway_session"))?.sameSite).toBe("Lax");

    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const q = new URLSearchParams({
      response_type: "code",
      client_id: RP.id,
      redirect_uri: RP.redirectUri,
      scope: "openid profile",
      state: "s1",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    // Nothing listens at the relying party: the redirect to it is caught here.
    const redirected = page.waitForRequest((r) => r.url().startsWith(RP.redirectUri));
    await page.goto(`${URL_BASE}/oauth2/authorize?${q}`).catch(() => undefined);
    const code = new URL((await redirected).url()).searchParams.get("code");
    expect(code).toBeTruthy();
    const token = await fetch(`${URL_BASE}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: code as string,
        redirect_uri: RP.redirectUri,
        client_id: RP.id,
        code_verifier: verifier,
      }),
    });
    const body = (await token.json()) as { id_token?: string };
    expect(token.status).toBe(200);
    const claims = JSON.parse(Buffer.from((body.id_token ?? "").split(".")[1] ?? "", "base64url").toString());
    expect(claims.sub).toBeTruthy();
    expect(claims.preferred_username ?? claims.name ?? claims.sub).toMatch(/alice/);
    await context.close();
  });
});
