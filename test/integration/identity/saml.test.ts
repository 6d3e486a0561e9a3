import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signXml } from "@node-saml/node-saml/lib/xml.js";
import { Agent } from "undici";
import { afterAll, describe, expect, it } from "vitest";
import { SamlSource, SamlSourceSchema } from "../../../src/identity/saml/index.js";
import { MemoryStore } from "../../../src/store/index.js";
import { describeRedirectConformance } from "../../conformance/identity.js";
import { loadEndpoints } from "../../env/endpoints.js";
import { TestBrowser } from "../../helpers/browser.js";
import {
  callbackForm,
  decode,
  encode,
  forge,
  idpLogin,
  type PostedResponse,
  resignRedirect,
  stripSignatures,
} from "../../helpers/saml.js";

// Against the test environment's real SimpleSAMLphp (https, test CA). Archway's SP is registered there at
// http://127.0.0.1:18095/login/sso/<source>; nothing listens there: the test takes the IdP's auto-POST form itself.
const env = loadEndpoints();
const saml = env.samlIdp;
if (!saml) throw new Error("the test environment has no samlIdp: run `testenv.sh start saml-idp`");
const PUBLIC_URL = "http://127.0.0.1:18095";
const browserAgent = new Agent({ connect: { ca: readFileSync(env.ca.certFile) } });
const users = Object.fromEntries(saml.users.map((u) => [u.username, u]));
const alice = users.alice as (typeof saml.users)[number];
const idpKey = { keyFile: saml.idpKeyFile, certFile: saml.idpCertFile };
// A key pair the IdP's metadata does not list: what an attacker without the IdP's key can sign with.
const untrustedKey = { keyFile: saml.spEncKeyFile, certFile: saml.spEncCertFile };

function source(id = "corp-saml", over: Record<string, unknown> = {}, store = new MemoryStore()): SamlSource {
  const config = SamlSourceSchema.parse({
    id,
    type: "saml",
    idp: { metadataUrl: saml?.metadataUrl, caFile: saml?.caFile },
    sp: {
      privateKey: readFileSync(saml?.spKeyFile ?? "", "utf8"),
      certificate: readFileSync(saml?.spCertFile ?? "", "utf8"),
    },
    ...over,
  });
  return new SamlSource(config, { store, publicUrl: PUBLIC_URL });
}

/** One round trip up to the IdP's answer, in a fresh browser. */
async function roundTrip(s: SamlSource, user = alice) {
  const start = await s.beginLogin({ redirectUri: s.acsUrl });
  const browser = new TestBrowser(browserAgent);
  const posted = await idpLogin(browser, start, user);
  return { start, posted, browser };
}

const complete = (s: SamlSource, pending: string, posted: PostedResponse, over: Partial<PostedResponse> = {}) =>
  s.completeLogin(new URL(s.acsUrl), pending, callbackForm(posted, over));

describeRedirectConformance("saml", () => ({
  source: shared,
  redirectUri: shared.acsUrl,
  login: async (start, user) => {
    const posted = await idpLogin(new TestBrowser(browserAgent), start, user);
    return { url: new URL(shared.acsUrl), form: callbackForm(posted) };
  },
  user: { username: "alice", password: "alice-pw", groups: ["admins", "devs"] },
  other: { username: "bob", password: "bob-pw" },
}));
const shared = source();

describe("SAML upstream source against SimpleSAMLphp", () => {
  const s = source();
  afterAll(async () => {
    await s.close();
    await shared.close();
  });

  it("signs alice in over HTTP-Redirect and maps NameID and attributes", async () => {
    const { start, posted } = await roundTrip(s);
    expect(new URL(start.url).searchParams.get("Signature")).toBeTruthy(); // the IdP requires signed requests
    expect(posted.action).toBe(s.acsUrl);
    expect(posted.RelayState).toBe(start.state);
    const { identity, tokens, auth } = await complete(s, start.pending, posted);
    expect(identity).toMatchObject({
      id: "corp-saml:alice",
      source: "corp-saml",
      username: "alice",
      email: "alice@example.org",
      displayName: "Alice Anders",
      groups: ["admins", "devs"],
    });
    expect(tokens.sid).toBeTruthy();
    expect(auth.amr).toContain("fed");
  });

  it("maps one group and no groups alike (bob, carol)", async () => {
    for (const [name, groups] of [
      ["bob", ["devs"]],
      ["carol", []],
    ] as const) {
      const { start, posted } = await roundTrip(s, users[name]);
      expect((await complete(s, start.pending, posted)).identity.groups).toEqual(groups);
    }
  });

  it("sends the AuthnRequest by HTTP-POST when configured", async () => {
    const post = source("corp-saml", { requestBinding: "post" });
    const { start, posted } = await roundTrip(post);
    expect(start.form?.SAMLRequest).toBeTruthy();
    expect((await complete(post, start.pending, posted)).identity.username).toBe("alice");
  });

  it("accepts encrypted assertions when the SP has the key", async () => {
    const enc = source("corp-saml-enc", {
      sp: {
        privateKey: readFileSync(saml.spKeyFile, "utf8"),
        certificate: readFileSync(saml.spCertFile, "utf8"),
        decryptionKey: readFileSync(saml.spEncKeyFile, "utf8"),
        decryptionCertificate: readFileSync(saml.spEncCertFile, "utf8"),
      },
    });
    const { start, posted } = await roundTrip(enc);
    expect(decode(posted.SAMLResponse)).toContain("EncryptedAssertion");
    expect((await complete(enc, start.pending, posted)).identity.id).toBe("corp-saml-enc:alice");
    const md = (await enc.metadata()).body;
    expect(md).toContain('use="encryption"');
  });

  it("publishes SP metadata with its entityID, ACS, SLO and signing key", async () => {
    const { body, contentType } = await s.metadata();
    expect(contentType).toBe("application/samlmetadata+xml");
    expect(body).toContain(`entityID="${PUBLIC_URL}/login/sso/corp-saml/metadata"`);
    expect(body).toContain(`Location="${PUBLIC_URL}/login/sso/corp-saml/callback"`);
    expect(body).toContain(`Location="${PUBLIC_URL}/login/sso/corp-saml/logout"`);
    expect(body).toContain('use="signing"');
  });

  describe("attacks, each refused beside the same round trip's genuine answer", () => {
    /** A round trip whose genuine answer is not used: the forged one is checked against its request. */
    const attempt = async (make: (posted: PostedResponse) => string) => {
      const { start, posted } = await roundTrip(s);
      return complete(s, start.pending, posted, { SAMLResponse: make(posted) });
    };
    const refused = (why: RegExp) => ({ code: "login_failed", status: 401, message: expect.stringMatching(why) });

    it("the positive path: the IdP's own key, nothing changed, is accepted", async () => {
      const res = await attempt((p) => forge(p.SAMLResponse, (x) => x, idpKey));
      expect(res.identity.username).toBe("alice");
    });

    it("an unsigned assertion (every signature removed)", async () => {
      await expect(attempt((p) => encode(stripSignatures(decode(p.SAMLResponse))))).rejects.toMatchObject(
        refused(/signature/i),
      );
    });

    it("an assertion signed by a key the metadata does not list", async () => {
      await expect(attempt((p) => forge(p.SAMLResponse, (x) => x, untrustedKey))).rejects.toMatchObject(
        refused(/signature/i),
      );
    });

    it("XML signature wrapping: a second, unsigned assertion beside the signed one", async () => {
      const wrapped = (p: PostedResponse) => {
        const xml = decode(p.SAMLResponse);
        const signed = xml.match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0] ?? "";
        const evil = stripSignatures(signed)
          .replace(/ID="[^"]+"/, 'ID="_evil"')
          .replaceAll(">alice<", ">mallory<");
        return encode(xml.replace(signed, `${evil}${signed}`));
      };
      await expect(attempt(wrapped)).rejects.toMatchObject(refused(/multiple assertions|signature/i));
    });

    it("XML signature wrapping: the signed assertion hidden in Extensions, an unsigned one in its place", async () => {
      const wrapped = (p: PostedResponse) => {
        const xml = stripSignatures(
          decode(p.SAMLResponse).replace(/<ds:Signature[\s\S]*?<\/ds:Signature>(?=\s*<samlp:Status)/, ""),
        );
        const original = decode(p.SAMLResponse).match(/<saml:Assertion[\s\S]*<\/saml:Assertion>/)?.[0] ?? "";
        const evil = stripSignatures(original).replaceAll(">alice<", ">mallory<");
        return encode(
          xml
            .replace(/<saml:Assertion[\s\S]*<\/saml:Assertion>/, evil)
            .replace(/(<samlp:Status)/, `<samlp:Extensions>${original}</samlp:Extensions>$1`),
        );
      };
      await expect(attempt(wrapped)).rejects.toMatchObject(refused(/signature|assertion/i));
    });

    it("a replayed assertion: the same answer twice, and re-sent for a new request", async () => {
      const { start, posted } = await roundTrip(s);
      await complete(s, start.pending, posted);
      await expect(complete(s, start.pending, posted)).rejects.toMatchObject(refused(/pending request|used/));
      // Even re-addressed to a fresh round trip (with the IdP's key, as only a compromised IdP could), the same
      // assertion ID is refused by the replay cache.
      const next = await roundTrip(s);
      const nextId = JSON.parse(next.start.pending).requestId as string;
      const oldId = JSON.parse(start.pending).requestId as string;
      const readdressed = forge(posted.SAMLResponse, (x) => x.replaceAll(oldId, nextId), idpKey);
      await expect(complete(s, next.start.pending, next.posted, { SAMLResponse: readdressed })).rejects.toMatchObject(
        refused(/already used|replay/),
      );
    });

    it("a wrong audience (signed by the IdP's key)", async () => {
      await expect(
        attempt((p) =>
          forge(p.SAMLResponse, (x) => x.replace(/(<saml:Audience>)[^<]+/, "$1https://other.example/sp"), idpKey),
        ),
      ).rejects.toMatchObject(refused(/audience/i));
    });

    it("an expired assertion (signed by the IdP's key)", async () => {
      const past = new Date(Date.now() - 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
      await expect(
        attempt((p) =>
          forge(p.SAMLResponse, (x) => x.replaceAll(/NotOnOrAfter="[^"]+"/g, `NotOnOrAfter="${past}"`), idpKey),
        ),
      ).rejects.toMatchObject(refused(/expire|subject confirmation|NotOnOrAfter/i));
    });

    it("a response for another InResponseTo (another round trip's genuine answer)", async () => {
      const mine = await s.beginLogin({ redirectUri: s.acsUrl });
      const other = await roundTrip(s);
      await expect(complete(s, mine.pending, other.posted)).rejects.toMatchObject(refused(/InResponseTo/));
    });

    it("a wrong Recipient and Destination (signed by the IdP's key)", async () => {
      await expect(
        attempt((p) =>
          forge(
            p.SAMLResponse,
            (x) => x.replaceAll(s.acsUrl, "http://127.0.0.1:18095/login/sso/other-saml/callback"),
            idpKey,
          ),
        ),
      ).rejects.toMatchObject(refused(/Destination|Recipient|ACS/));
    });
  });

  describe("single logout", () => {
    it("an IdP-initiated LogoutRequest names the person and the session, and is answered signed", async () => {
      const { start, posted, browser } = await roundTrip(s);
      const { tokens } = await complete(s, start.pending, posted);
      const idpBase = saml.metadataUrl.replace(/\/saml2\/idp\/metadata\.php$/, "");
      const toSp = await browser.follow(
        `${idpBase}/saml2/idp/SingleLogoutService.php?ReturnTo=${encodeURIComponent(`${PUBLIC_URL}/login?signed_out`)}`,
        s.sloUrl,
      );
      expect(toSp.location).toMatch(new RegExp(`^${s.sloUrl}\\?SAMLRequest=`));
      const url = new URL(toSp.location as string);
      const unsigned = new URL(url);
      unsigned.searchParams.delete("Signature");
      await expect(s.frontChannelLogout({ url: unsigned })).rejects.toMatchObject({ code: "logout_refused" });
      const answer = await s.frontChannelLogout({ url });
      expect(answer.ended).toEqual({ personId: "corp-saml:alice", sid: tokens.sid });
      expect(answer.redirect).toMatch(/SingleLogoutService\.php\?SAMLResponse=.*Signature=/);
      await expect(s.frontChannelLogout({ url })).rejects.toMatchObject({ code: "logout_refused" }); // replayed
      const back = await browser.follow(answer.redirect as string, PUBLIC_URL);
      expect(back.location).toBe(`${PUBLIC_URL}/login?signed_out`);
    });

    it("a LogoutRequest the IdP addressed to another SP (signed by the IdP's key) is refused; re-signed as sent, accepted", async () => {
      const { start, posted, browser } = await roundTrip(s);
      const { tokens } = await complete(s, start.pending, posted);
      const idpBase = saml.metadataUrl.replace(/\/saml2\/idp\/metadata\.php$/, "");
      const toSp = await browser.follow(
        `${idpBase}/saml2/idp/SingleLogoutService.php?ReturnTo=${encodeURIComponent(`${PUBLIC_URL}/login`)}`,
        s.sloUrl,
      );
      const url = new URL(toSp.location as string);
      const elsewhere = resignRedirect(
        url,
        (x) => x.replace(/Destination="[^"]+"/, 'Destination="https://other-sp.example/slo"'),
        idpKey,
      );
      await expect(s.frontChannelLogout({ url: elsewhere })).rejects.toMatchObject({
        code: "logout_refused",
        message: expect.stringMatching(/Destination https:\/\/other-sp\.example\/slo is not this SLO endpoint/),
      });
      const noDestination = resignRedirect(url, (x) => x.replace(/ Destination="[^"]+"/, ""), idpKey);
      await expect(s.frontChannelLogout({ url: noDestination })).rejects.toMatchObject({ code: "logout_refused" });
      const asSent = resignRedirect(url, (x) => x, idpKey);
      expect((await s.frontChannelLogout({ url: asSent })).ended).toEqual({
        personId: "corp-saml:alice",
        sid: tokens.sid,
      });
    });

    it("an SP-initiated logout is sent signed, and the IdP's answer comes back", async () => {
      const { start, posted, browser } = await roundTrip(s);
      const { tokens } = await complete(s, start.pending, posted);
      const url = await s.logoutUrl({ idToken: tokens.idToken });
      expect(url).toMatch(/SAMLRequest=.*Signature=/);
      const toSp = await browser.follow(url as string, s.sloUrl);
      expect(toSp.location).toMatch(new RegExp(`^${s.sloUrl}\\?SAMLResponse=`));
      expect(await s.frontChannelLogout({ url: new URL(toSp.location as string) })).toEqual({});
      // The IdP's session is gone: the next round trip asks for the password again.
      const again = await s.beginLogin({ redirectUri: s.acsUrl });
      expect((await browser.follow(again.url)).html).toMatch(/name="password"/);
    });
  });
});

describe("signed IdP metadata (idp.metadataSigningCertificate), against the IdP's real signed metadata", () => {
  const idpCert = readFileSync(saml.idpCertFile, "utf8");
  const dir = mkdtempSync(join(tmpdir(), "archway-saml-md-"));
  const opened: SamlSource[] = [];
  afterAll(async () => {
    await Promise.all(opened.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const real = async () => {
    const res = await fetch(saml.metadataUrl, { dispatcher: browserAgent } as RequestInit);
    return res.text();
  };
  const pinned = (idp: Record<string, unknown>, cert: string | string[] = idpCert) => {
    const s = source("corp-saml", { idp: { ...idp, metadataSigningCertificate: cert } });
    opened.push(s);
    return s;
  };
  const fromFile = (name: string, xml: string, cert?: string) => {
    const file = join(dir, name);
    writeFileSync(file, xml);
    return pinned({ metadataFile: file }, cert);
  };
  const refusedWith = (why: RegExp) => ({ code: "directory_unavailable", message: expect.stringMatching(why) });

  it("the positive path: the IdP's metadata, signed with the pinned certificate, is read and a login works", async () => {
    const s = pinned({ metadataUrl: saml.metadataUrl, caFile: saml.caFile }, [
      readFileSync(untrustedKey.certFile, "utf8"),
      idpCert,
    ]);
    await s.ping();
    const { start, posted } = await roundTrip(s);
    expect((await complete(s, start.pending, posted)).identity.id).toBe("corp-saml:alice");
  });

  it("the same metadata with another certificate pinned is refused", async () => {
    const s = pinned(
      { metadataUrl: saml.metadataUrl, caFile: saml.caFile },
      readFileSync(untrustedKey.certFile, "utf8"),
    );
    await expect(s.ping()).rejects.toMatchObject(refusedWith(/not signed by idp\.metadataSigningCertificate/));
  });

  it("an endpoint changed behind the signature (the IdP's signature kept) is refused", async () => {
    const xml = (await real()).replace(
      /Location="https:\/\/127\.0\.0\.1:17443\//,
      'Location="https://attacker.example/',
    );
    await expect(fromFile("moved.xml", xml).ping()).rejects.toMatchObject(refusedWith(/not signed|refused/));
  });

  it("a second, unsigned EntityDescriptor wrapped around the signed one is refused", async () => {
    const signed = (await real()).replace(/^<\?xml[^>]*>\s*/, "");
    const evil = signed
      .replace(/ ID="[^"]+"/, "")
      .replace(/<ds:Signature>[\s\S]*?<\/ds:Signature>/, "")
      .replace(/Location="https:\/\/127\.0\.0\.1:17443\//g, 'Location="https://attacker.example/');
    const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${evil}<md:Extensions>${signed}</md:Extensions></md:EntitiesDescriptor>`;
    await expect(fromFile("wrapped.xml", xml).ping()).rejects.toMatchObject(refusedWith(/not signed/));
  });

  it("a signed copy whose validUntil has passed (re-signed with the IdP's key) is refused", async () => {
    const root = "/*[local-name(.)='EntityDescriptor']";
    const stale = stripSignatures(await real()).replace(
      /<md:EntityDescriptor /,
      '<md:EntityDescriptor validUntil="2020-01-01T00:00:00Z" ',
    );
    const xml = signXml(
      stale,
      root,
      { reference: `${root}/*[1]`, action: "before" },
      {
        privateKey: readFileSync(idpKey.keyFile),
        publicCert: idpCert,
        signatureAlgorithm: "sha256",
        digestAlgorithm: "sha256",
      },
    );
    await expect(fromFile("stale.xml", xml).ping()).rejects.toMatchObject(refusedWith(/expired \(validUntil 2020/));
  });
});
