import { deflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { logoutDestinationProblem, readLogoutMessage } from "../../../src/identity/saml/logout-message.js";

const SLO = "https://archway.example/login/sso/corp/logout";
const request = (attrs: string) =>
  `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_1" Version="2.0" ${attrs}/>`;
const redirect = (xml: string) => deflateRawSync(Buffer.from(xml)).toString("base64");
const post = (xml: string) => Buffer.from(xml).toString("base64");

describe("SAML logout messages: read before the signature check, refused unless addressed here", () => {
  it("reads both bindings and accepts exactly this SLO endpoint", async () => {
    for (const facts of [
      await readLogoutMessage(redirect(request(`Destination="${SLO}"`)), "redirect"),
      await readLogoutMessage(post(request(`Destination="${SLO}"`)), "post"),
    ]) {
      expect(facts).toEqual({ kind: "LogoutRequest", destination: SLO });
      expect(logoutDestinationProblem(facts, SLO)).toBeUndefined();
    }
  });

  it("refuses another SP's endpoint and a missing Destination", async () => {
    const other = await readLogoutMessage(post(request('Destination="https://other.example/slo"')), "post");
    expect(logoutDestinationProblem(other, SLO)).toMatch(/other\.example\/slo is not this SLO endpoint/);
    expect(logoutDestinationProblem(await readLogoutMessage(post(request("")), "post"), SLO)).toMatch(/\(none\)/);
  });

  it("rejects what is not a SAML logout message", async () => {
    await expect(readLogoutMessage(post("<LogoutRequest/>"), "post")).rejects.toThrow(/not a SAML logout/);
    await expect(
      readLogoutMessage(post('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>'), "post"),
    ).rejects.toThrow();
    await expect(readLogoutMessage("not base64 deflate", "redirect")).rejects.toThrow();
  });
});
