/**
 * The little XML reading the SAML source does beyond node-saml (metadata, the checks node-saml leaves out), on
 * node-saml's own parser and XPath helpers: one XML stack, the one that verified the signatures.
 */
import { parseDomFromString, xpath } from "@node-saml/node-saml/lib/xml.js";

/** The part of a DOM element these checks read. */
export interface XmlElement {
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}

/** SAML's namespaces, checked so that an element of another vocabulary with the same local name never counts. */
export const NS = {
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
  metadata: "urn:oasis:names:tc:SAML:2.0:metadata",
  dsig: "http://www.w3.org/2000/09/xmldsig#",
} as const;

/** Parses a document; rejects on malformed XML (node-saml's parser refuses on its warnings and errors). */
export async function parseXml(xml: string): Promise<XmlElement> {
  const doc = await parseDomFromString(xml);
  return doc.documentElement as XmlElement;
}

/** The elements an XPath selects from `node` (use `local-name()` tests; check namespaces with {@link inNs}). */
export function select(node: XmlElement, path: string): XmlElement[] {
  return xpath.selectElements(node, path) as XmlElement[];
}

/** The elements an XPath selects whose namespace is `ns`. */
export function selectNs(node: XmlElement, path: string, ns: string): XmlElement[] {
  return select(node, path).filter((e) => e.namespaceURI === ns);
}

/** `path` made of local names, each step a child (`./a/b` -> `./*[local-name()='a']/*[local-name()='b']`). */
export function children(...names: string[]): string {
  return `./${names.map((n) => `*[local-name()='${n}']`).join("/")}`;
}

/** The element's text, trimmed; undefined when empty. */
export function textOf(e: XmlElement | undefined): string | undefined {
  const t = e?.textContent?.trim();
  return t ? t : undefined;
}

/** An attribute's value; undefined when absent (the DOM answers "" for a missing attribute). */
export function attr(e: XmlElement | undefined, name: string): string | undefined {
  return e?.getAttribute(name) || undefined;
}
