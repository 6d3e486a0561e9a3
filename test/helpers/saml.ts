import { createSign } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { signXml } from "@node-saml/node-saml/lib/xml.js";
import type { RedirectStart } from "../../src/identity/index.js";
import type { Page, TestBrowser } from "./browser.js";

/** What SimpleSAMLphp's auto-POST page sends to the ACS. */
export interface PostedResponse {
  action: string;
  SAMLResponse: string;
  RelayState: string;
}

/**
 * Drives SimpleSAMLphp's login for a round trip `start` (redirect or POST binding) with `browser`'s cookie jar, and
 * returns what its auto-POST form would send to the ACS (the browser never posts it: the test decides what to do).
 * With an IdP session already in the jar, no password is asked.
 */
export async function idpLogin(
  browser: TestBrowser,
  start: RedirectStart,
  user: { username: string; password: string },
): Promise<PostedResponse> {
  let page: Page = start.form
    ? await browser.follow(start.url, undefined, start.form)
    : await browser.follow(start.url);
  if (/name="password"/.test(page.html)) {
    const action = page.html.match(/<form[^>]*action="([^"]*)"/)?.[1]?.replaceAll("&amp;", "&") ?? "";
    const authState = page.html.match(/name="AuthState"\s+value="([^"]+)"/)?.[1] ?? "";
    page = await browser.follow(new URL(action || page.url, page.url).href, undefined, {
      username: user.username,
      password: user.password,
      AuthState: authState.replaceAll("&amp;", "&"),
    });
  }
  return postedForm(page);
}

/** The SAML fields of an auto-POST page. */
export function postedForm(page: Page): PostedResponse {
  const action = page.html.match(/<form[^>]*method="post"[^>]*action="([^"]+)"/i)?.[1];
  const field = (name: string) =>
    page.html.match(new RegExp(`name="${name}"\\s+value="([^"]*)"`))?.[1]?.replaceAll("&amp;", "&");
  const SAMLResponse = field("SAMLResponse");
  if (!action || !SAMLResponse)
    throw new Error(`no SAML auto-POST form at ${page.url} (HTTP ${page.status}): ${page.html.slice(0, 400)}`);
  return { action: action.replaceAll("&amp;", "&"), SAMLResponse, RelayState: field("RelayState") ?? "" };
}

/** The posted form as the callback's fields. */
export function callbackForm(posted: PostedResponse, over: Partial<PostedResponse> = {}): URLSearchParams {
  const p = { ...posted, ...over };
  return new URLSearchParams({ SAMLResponse: p.SAMLResponse, RelayState: p.RelayState });
}

export const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
export const encode = (xml: string) => Buffer.from(xml, "utf8").toString("base64");

/** Every XML signature of a document removed. */
export function stripSignatures(xml: string): string {
  return xml.replace(/<ds:Signature[\s\S]*?<\/ds:Signature>/g, "");
}

const ASSERTION = "//*[local-name(.)='Assertion' and namespace-uri(.)='urn:oasis:names:tc:SAML:2.0:assertion']";

/** Signs the (only) assertion of `xml` with `key` (the signature after its Issuer, as IdPs place it). */
export function signAssertion(xml: string, key: { keyFile: string; certFile: string }): string {
  return signXml(
    xml,
    ASSERTION,
    { reference: `${ASSERTION}/*[local-name(.)='Issuer']`, action: "after" },
    {
      privateKey: readFileSync(key.keyFile),
      publicCert: readFileSync(key.certFile, "utf8"),
      signatureAlgorithm: "sha256",
      digestAlgorithm: "sha256",
    },
  );
}

/**
 * A response made from a real one: signatures removed, `edit` applied to the XML text, the assertion signed again
 * with `key` (the IdP's own key for checks behind the signature; an untrusted one for the signature check itself).
 */
export function forge(
  samlResponse: string,
  edit: (xml: string) => string,
  key: { keyFile: string; certFile: string },
): string {
  return encode(signAssertion(edit(stripSignatures(decode(samlResponse))), key));
}

/**
 * An HTTP-Redirect logout message edited and signed again with `key` (the binding signs the query string:
 * `SAMLRequest=…&RelayState=…&SigAlg=…`, each value URL-encoded), as an attacker holding that key would send it.
 */
export function resignRedirect(url: URL, edit: (xml: string) => string, key: { keyFile: string }): URL {
  const param = url.searchParams.has("SAMLRequest") ? "SAMLRequest" : "SAMLResponse";
  const xml = inflateRawSync(Buffer.from(url.searchParams.get(param) ?? "", "base64")).toString("utf8");
  const message = deflateRawSync(Buffer.from(edit(xml), "utf8")).toString("base64");
  const sigAlg = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
  const relayState = url.searchParams.get("RelayState");
  const signed = [
    `${param}=${encodeURIComponent(message)}`,
    ...(relayState === null ? [] : [`RelayState=${encodeURIComponent(relayState)}`]),
    `SigAlg=${encodeURIComponent(sigAlg)}`,
  ].join("&");
  const signature = createSign("RSA-SHA256").update(signed).sign(readFileSync(key.keyFile, "utf8"), "base64");
  return new URL(`${url.origin}${url.pathname}?${signed}&Signature=${encodeURIComponent(signature)}`);
}
