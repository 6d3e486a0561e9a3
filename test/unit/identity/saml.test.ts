import { describe, expect, it } from "vitest";
import {
  type AssertionFacts,
  assertionEnd,
  type Expected,
  type ResponseFacts,
  readAssertion,
  refusal,
} from "../../../src/identity/saml/assertion.js";
import { samlIdentity } from "../../../src/identity/saml/mapping.js";
import { parseIdpMetadata } from "../../../src/identity/saml/metadata.js";
import { SamlSourceSchema } from "../../../src/identity/saml/schema.js";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const ACS = "https://archway.example/login/sso/corp/callback";
const expected: Expected = {
  acsUrl: ACS,
  audience: "https://archway.example/login/sso/corp/metadata",
  issuer: "https://idp.example/",
  requestId: "_req1",
  now: NOW,
  skewMs: 60_000,
};
const response: ResponseFacts = {
  inResponseTo: "_req1",
  destination: ACS,
  issuer: "https://idp.example/",
  signed: true,
};
const assertion: AssertionFacts = {
  id: "_a1",
  issuer: "https://idp.example/",
  nameId: "alice",
  audiences: [expected.audience],
  notBefore: NOW - 30_000,
  notOnOrAfter: NOW + 300_000,
  confirmations: [{ recipient: ACS, inResponseTo: "_req1", notOnOrAfter: NOW + 300_000 }],
  attributes: { uid: ["alice"], mail: ["alice@example.org"], memberOf: ["admins", "devs"] },
};

describe("SAML response checks", () => {
  it("accept a response that matches in every respect", () => {
    expect(refusal(response, assertion, expected)).toBeNull();
  });

  it.each([
    ["another issuer", {}, { issuer: "https://evil.example/" }, /issuer/],
    ["another request", { inResponseTo: "_other" }, {}, /InResponseTo/],
    ["no InResponseTo (unsolicited)", { inResponseTo: undefined }, {}, /InResponseTo/],
    ["another Destination", { destination: "https://evil.example/acs" }, {}, /Destination/],
    ["a signed response without Destination", { destination: undefined }, {}, /Destination/],
    ["another audience", {}, { audiences: ["https://other.example/"] }, /audience/],
    ["an expired assertion", {}, { notOnOrAfter: NOW - 61_000 }, /expired/],
    ["a not yet valid assertion", {}, { notBefore: NOW + 61_000 }, /not yet valid/],
    ["no ID", {}, { id: "" }, /ID/],
    ["an unreadable time", {}, { notOnOrAfter: Number.NaN }, /time/],
  ] as const)("refuse %s", (_name, r, a, why) => {
    expect(refusal({ ...response, ...r }, { ...assertion, ...(a as Partial<AssertionFacts>) }, expected)).toMatch(why);
  });

  it.each([
    ["another Recipient", { recipient: "https://evil.example/acs" }],
    ["another request in the confirmation", { inResponseTo: "_other" }],
    ["an expired confirmation", { notOnOrAfter: NOW - 61_000 }],
    ["a confirmation without an end", { notOnOrAfter: undefined }],
  ] as const)("refuse a bearer confirmation with %s", (_name, c) => {
    const a = { ...assertion, confirmations: [{ ...assertion.confirmations[0], ...c }] };
    expect(refusal(response, a, expected)).toMatch(/subject confirmation/);
  });

  it("tolerate the configured skew, not more", () => {
    const late = { ...assertion, notOnOrAfter: NOW - 59_000 };
    expect(
      refusal(response, { ...late, confirmations: [{ ...assertion.confirmations[0], recipient: ACS }] }, expected),
    ).toBeNull();
    expect(refusal(response, { ...assertion, notOnOrAfter: NOW - 60_000 }, expected)).toMatch(/expired/);
  });

  it("keep an assertion id until the earliest end it names", () => {
    expect(assertionEnd({ ...assertion, notOnOrAfter: NOW + 10_000 })).toBe(NOW + 10_000);
    expect(assertionEnd({ ...assertion, notOnOrAfter: undefined })).toBe(NOW + 300_000);
  });

  it("read an assertion's facts from its XML, in SAML's namespace only", async () => {
    const xml = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1" IssueInstant="2026-12-06T12:00:00Z">
      <saml:Issuer>https://idp.example/</saml:Issuer>
      <saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice</saml:NameID>
        <saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
          <saml:SubjectConfirmationData Recipient="${ACS}" InResponseTo="_req1" NotOnOrAfter="2026-12-06T12:05:00Z"/>
        </saml:SubjectConfirmation></saml:Subject>
      <saml:Conditions NotBefore="2026-12-06T11:59:30Z" NotOnOrAfter="2026-12-06T12:05:00Z">
        <saml:AudienceRestriction><saml:Audience>${expected.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
      <saml:AuthnStatement SessionIndex="_s1"><saml:AuthnContext><saml:AuthnContextClassRef>urn:mfa</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
      <saml:AttributeStatement>
        <saml:Attribute Name="memberOf"><saml:AttributeValue>admins</saml:AttributeValue><saml:AttributeValue>devs</saml:AttributeValue></saml:Attribute>
        <x:Attribute xmlns:x="urn:other" Name="memberOf"><x:AttributeValue>root</x:AttributeValue></x:Attribute>
      </saml:AttributeStatement></saml:Assertion>`;
    const facts = await readAssertion(xml);
    expect(facts).toMatchObject({
      id: "_a1",
      nameId: "alice",
      sessionIndex: "_s1",
      authnContext: "urn:mfa",
      audiences: [expected.audience],
      notOnOrAfter: NOW + 300_000,
      attributes: { memberOf: ["admins", "devs"] },
    });
    expect(refusal(response, facts, expected)).toBeNull();
  });
});

describe("SAML attribute mapping", () => {
  const map = SamlSourceSchema.parse({ id: "corp", type: "saml", idp: { metadataFile: "/x" } }).attributes;

  it("maps like the OIDC claims: id from the NameID, fields from attributes, groups as a list", () => {
    expect(samlIdentity("corp", map, assertion)).toMatchObject({
      id: "corp:alice",
      username: "alice",
      email: "alice@example.org",
      groups: ["admins", "devs"],
      attributes: { nameID: ["alice"], uid: ["alice"] },
    });
  });

  it("splits one joined groups value, falls back to the id for the username, refuses a missing id", () => {
    const joined = { ...assertion, attributes: { memberOf: ["a, b;c"] } };
    expect(samlIdentity("corp", map, joined)).toMatchObject({ username: "alice", groups: ["a", "b", "c"] });
    expect(samlIdentity("corp", { ...map, id: "objectGUID" }, assertion)).toBeNull();
  });
});

describe("IdP metadata", () => {
  const cert = (n: string) =>
    `<ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${n}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>`;
  const entity = (id: string) => `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${id}">
    <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:KeyDescriptor use="signing">${cert("OLD")}</md:KeyDescriptor>
      <md:KeyDescriptor>${cert("NEW")}</md:KeyDescriptor>
      <md:KeyDescriptor use="encryption">${cert("ENC")}</md:KeyDescriptor>
      <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${id}slo"/>
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${id}sso"/>
    </md:IDPSSODescriptor></md:EntityDescriptor>`;

  it("lists every signing certificate (rollover), not the encryption one, and the endpoints", async () => {
    expect(await parseIdpMetadata(entity("https://idp.example/"))).toEqual({
      entityId: "https://idp.example/",
      sso: { redirect: "https://idp.example/sso" },
      slo: { redirect: "https://idp.example/slo" },
      signingCerts: ["OLD", "NEW"],
    });
  });

  it("picks the named IdP from an aggregate and refuses to guess", async () => {
    const aggregate = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${entity("https://a/")}${entity("https://b/")}</md:EntitiesDescriptor>`;
    expect((await parseIdpMetadata(aggregate, "https://b/")).entityId).toBe("https://b/");
    await expect(parseIdpMetadata(aggregate)).rejects.toThrow(/several/);
    await expect(parseIdpMetadata(aggregate, "https://c/")).rejects.toThrow(/no IdP/);
  });
});
