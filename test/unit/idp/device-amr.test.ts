import { describe, expect, it } from "vitest";
import { satisfiesMfa } from "../../../src/identity/index.js";
import { providerFixture } from "./provider-fixture.js";

// `archway login` is the device flow: the approving browser session's strength (amr) must reach the grant, from
// which the offline session and the facade token of `archway login` take it (src/http/oidc/token.ts), so grants
// that wait on a second factor are not withheld from CLI tokens after a sign-in that passed one.

async function startDevice(f: ReturnType<typeof providerFixture>) {
  const res = await f.app.request("/oauth2/device_authorization", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "client_id=device-cli&scope=openid",
  });
  return (await res.json()) as { user_code: string; device_code: string };
}

async function approvedGrant(amr?: string) {
  const f = providerFixture();
  const bob = f.browser("192.0.2.10");
  await bob.signIn("bob", amr);
  const started = await startDevice(f);
  const csrf = bob.hiddenFields((await bob.request("/device")).html, "/logout").csrf ?? "";
  const res = await bob.request("/device", { csrf, user_code: started.user_code, decision: "approve" });
  expect(res.status).toBe(200);
  const polled = await f.deps.devices.poll(started.device_code, "device-cli");
  if (polled.kind !== "approved") throw new Error(`not approved: ${polled.kind}`);
  return { f, grant: polled.grant };
}

describe("device approval carries the approving session's amr", () => {
  it("a session that passed a second factor: the grant and its ID token say so", async () => {
    const { f, grant } = await approvedGrant("pwd,otp,mfa");
    expect(grant.amr).toEqual(["pwd", "otp", "mfa"]);
    expect(satisfiesMfa(grant.amr)).toBe(true);
    expect(grant.sid).toBeDefined();
    const idToken = await f.deps.issue.idToken(grant);
    const claims = JSON.parse(Buffer.from(idToken.token.split(".")[1] ?? "", "base64url").toString()) as {
      amr?: string[];
    };
    expect(claims.amr).toEqual(["pwd", "otp", "mfa"]);
  });

  it("a password-only session: the grant has no second factor", async () => {
    const { grant } = await approvedGrant();
    expect(grant.amr).toEqual(["pwd"]);
    expect(satisfiesMfa(grant.amr)).toBe(false);
  });
});
