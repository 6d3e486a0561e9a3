import { attr, children, NS, parseXml, select, selectNs, textOf, type XmlElement } from "./xml.js";

/** What a verified assertion says, read from the XML whose signature node-saml checked. */
export interface AssertionFacts {
  id: string;
  issuer?: string;
  nameId?: string;
  nameIdFormat?: string;
  sessionIndex?: string;
  authnContext?: string;
  audiences: string[];
  notBefore?: number;
  notOnOrAfter?: number;
  /** Bearer subject confirmations (the only method a browser profile uses). */
  confirmations: { recipient?: string; inResponseTo?: string; notBefore?: number; notOnOrAfter?: number }[];
  /** Every attribute by its Name, every value as text (one value or many, always a list). */
  attributes: Record<string, string[]>;
}

/** What the response element around it says (unsigned unless the IdP signs whole responses). */
export interface ResponseFacts {
  inResponseTo?: string;
  destination?: string;
  issuer?: string;
  signed: boolean;
}

const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/** Reads an assertion (the verified XML node-saml hands back). */
export async function readAssertion(xml: string): Promise<AssertionFacts> {
  const a = await parseXml(xml);
  if (a.localName !== "Assertion" || a.namespaceURI !== NS.assertion) throw new Error("not a SAML assertion");
  const one = (path: string) => selectNs(a, path, NS.assertion)[0];
  const nameId = one(children("Subject", "NameID"));
  const authn = one(children("AuthnStatement"));
  const conditions = one(children("Conditions"));
  const attributes: Record<string, string[]> = {};
  for (const attr of selectNs(a, children("AttributeStatement", "Attribute"), NS.assertion)) {
    const name = attr.getAttribute("Name");
    if (!name) continue;
    const values = selectNs(attr, children("AttributeValue"), NS.assertion)
      .map((v) => textOf(v))
      .filter((v): v is string => v !== undefined);
    attributes[name] = [...(attributes[name] ?? []), ...values];
  }
  return {
    id: a.getAttribute("ID") ?? "",
    issuer: textOf(one(children("Issuer"))),
    nameId: textOf(nameId),
    nameIdFormat: attr(nameId, "Format"),
    sessionIndex: attr(authn, "SessionIndex"),
    authnContext: textOf(authn && selectNs(authn, children("AuthnContext", "AuthnContextClassRef"), NS.assertion)[0]),
    audiences: selectNs(a, children("Conditions", "AudienceRestriction", "Audience"), NS.assertion)
      .map((e) => textOf(e))
      .filter((v): v is string => v !== undefined),
    notBefore: time(conditions, "NotBefore"),
    notOnOrAfter: time(conditions, "NotOnOrAfter"),
    confirmations: selectNs(a, children("Subject", "SubjectConfirmation"), NS.assertion)
      .filter((sc) => sc.getAttribute("Method") === BEARER)
      .map((sc) => {
        const data = selectNs(sc, children("SubjectConfirmationData"), NS.assertion)[0];
        return {
          recipient: attr(data, "Recipient"),
          inResponseTo: attr(data, "InResponseTo"),
          notBefore: time(data, "NotBefore"),
          notOnOrAfter: time(data, "NotOnOrAfter"),
        };
      }),
    attributes,
  };
}

/** Reads the response element (the whole message as posted). */
export async function readResponse(xml: string): Promise<ResponseFacts> {
  const r = await parseXml(xml);
  if (r.localName !== "Response" || r.namespaceURI !== NS.protocol) throw new Error("not a SAML response");
  return {
    inResponseTo: attr(r, "InResponseTo"),
    destination: attr(r, "Destination"),
    issuer: textOf(selectNs(r, children("Issuer"), NS.assertion)[0]),
    signed: select(r, children("Signature")).some((s) => s.namespaceURI === NS.dsig),
  };
}

/** What the response must match. */
export interface Expected {
  /** The ACS URL: Destination and Recipient. */
  acsUrl: string;
  /** Archway's SP entityID: the audience. */
  audience: string;
  /** The IdP's entityID: the issuer. */
  issuer: string;
  /** The AuthnRequest's ID this browser's round trip sent: InResponseTo. */
  requestId: string;
  now: number;
  skewMs: number;
}

/**
 * The checks node-saml leaves to its caller or makes loosely, made on the verified assertion and the response around
 * it: the issuer; InResponseTo of the response and of the subject confirmation equal to this round trip's request;
 * Destination (required on a signed response); a bearer confirmation for this ACS (Recipient) still valid; the
 * audience; NotBefore / NotOnOrAfter within the skew, and an end at all (the replay cache keeps the assertion's ID
 * until then). Returns the reason for the first failed check, or null.
 */
export function refusal(response: ResponseFacts, assertion: AssertionFacts, expected: Expected): string | null {
  const { now, skewMs } = expected;
  if (!assertion.id) return "the assertion has no ID";
  const times = [
    assertion.notBefore,
    assertion.notOnOrAfter,
    ...assertion.confirmations.flatMap((c) => [c.notBefore, c.notOnOrAfter]),
  ];
  if (times.some((t) => Number.isNaN(t))) return "a time in the assertion cannot be read";
  if (assertion.issuer !== expected.issuer) return `issuer ${assertion.issuer ?? "(none)"} is not the IdP`;
  if (response.issuer !== undefined && response.issuer !== expected.issuer)
    return `response issuer ${response.issuer} is not the IdP`;
  if (response.inResponseTo !== expected.requestId) return "InResponseTo is not this sign-in's request";
  if (response.destination === undefined ? response.signed : response.destination !== expected.acsUrl)
    return `Destination ${response.destination ?? "(none)"} is not this ACS`;
  const confirmation = assertion.confirmations.find(
    (sc) =>
      sc.recipient === expected.acsUrl &&
      (sc.inResponseTo === undefined || sc.inResponseTo === expected.requestId) &&
      (sc.notBefore === undefined || now + skewMs >= sc.notBefore) &&
      sc.notOnOrAfter !== undefined &&
      now - skewMs < sc.notOnOrAfter,
  );
  if (!confirmation) return "no bearer subject confirmation for this ACS (Recipient, InResponseTo, time)";
  if (!assertion.audiences.includes(expected.audience)) return "the audience is not this service provider";
  if (assertion.notBefore !== undefined && now + skewMs < assertion.notBefore) return "the assertion is not yet valid";
  if (assertion.notOnOrAfter !== undefined && now - skewMs >= assertion.notOnOrAfter) return "the assertion expired";
  return null;
}

/** When the assertion stops being acceptable anywhere (the replay cache keeps its ID until then, plus the skew). */
export function assertionEnd(assertion: AssertionFacts): number {
  const ends = [assertion.notOnOrAfter, ...assertion.confirmations.map((c) => c.notOnOrAfter)].filter(
    (t): t is number => t !== undefined,
  );
  return Math.min(...ends);
}

function time(e: XmlElement | undefined, attribute: string): number | undefined {
  const v = e?.getAttribute(attribute);
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? Number.NaN : t;
}
