import { inflateRawSync } from "node:zlib";
import { attr, NS, parseXml } from "./xml.js";

/** What Archway reads of an incoming logout message before node-saml checks its signature. */
export interface LogoutMessageFacts {
  kind: "LogoutRequest" | "LogoutResponse";
  destination?: string;
}

/**
 * Reads the root of a logout message as a binding carries it: HTTP-Redirect deflates then base64-encodes it,
 * HTTP-POST only base64-encodes it. node-saml checks the signature and the issuer but not the Destination, which
 * says which SP the IdP addressed: without it, a signed LogoutRequest the IdP sent to another SP would end a session
 * here too. Rejects on anything that is not a SAML 2.0 logout message.
 */
export async function readLogoutMessage(encoded: string, binding: "redirect" | "post"): Promise<LogoutMessageFacts> {
  const bytes = Buffer.from(encoded, "base64");
  const xml = (binding === "redirect" ? inflateRawSync(bytes, { maxOutputLength: 1 << 20 }) : bytes).toString("utf8");
  const root = await parseXml(xml);
  if (root.namespaceURI !== NS.protocol || (root.localName !== "LogoutRequest" && root.localName !== "LogoutResponse"))
    throw new Error("not a SAML logout message");
  return { kind: root.localName, destination: attr(root, "Destination") };
}

/**
 * Why a logout message's Destination is refused, or undefined when it names this SLO endpoint. Archway takes only
 * signed logout messages, and SAML's bindings require a signed message's Destination (bindings 3.4.5.2, 3.5.5.2).
 */
export function logoutDestinationProblem(facts: LogoutMessageFacts, sloUrl: string): string | undefined {
  if (facts.destination === sloUrl) return undefined;
  return `Destination ${facts.destination ?? "(none)"} is not this SLO endpoint`;
}
