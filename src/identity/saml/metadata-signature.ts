import { getVerifiedXml, parseDomFromString } from "@node-saml/node-saml/lib/xml.js";
import { attr, parseXml } from "./xml.js";

/**
 * The part of an IdP's metadata that a pinned certificate signed (an enveloped signature on the root element), or a
 * rejection with the reason. Only the signed bytes are returned and read afterwards, so nothing outside the signature
 * (a wrapped second EntityDescriptor, an added endpoint or certificate) is ever believed. A `validUntil` in the past
 * is refused too: an old signed copy must not be replayed after the IdP rolled its keys over.
 */
export async function verifiedMetadataXml(xml: string, certificates: readonly string[], now: number): Promise<string> {
  const doc = await parseDomFromString(xml);
  let signed: string | null;
  try {
    signed = getVerifiedXml(xml, doc.documentElement, [...certificates]);
  } catch (err) {
    throw new Error(`the metadata's signature is refused (${(err as Error).message})`);
  }
  if (!signed) throw new Error("the metadata is not signed by idp.metadataSigningCertificate");
  const validUntil = attr(await parseXml(signed), "validUntil");
  if (validUntil !== undefined && !(Date.parse(validUntil) > now))
    throw new Error(`the signed metadata expired (validUntil ${validUntil})`);
  return signed;
}
