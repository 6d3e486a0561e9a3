/**
 * The SAML 2.0 upstream source's configuration (zod only: the config layer imports this file without the source's
 * code).
 */
import { z } from "zod";
import { IdSchema, MfaModeSchema, SecretSchema } from "../../config/schema/common.js";

const PemSchema = z.string().regex(/-----BEGIN [A-Z ]+-----/, "expected a PEM block (use ${file:...})");

/** Where the IdP's metadata comes from: a URL (read again every `refreshSeconds`) or a file. */
export const SamlIdpSchema = z
  .object({
    metadataUrl: z.url().optional(),
    metadataFile: z.string().min(1).optional(),
    /**
     * The IdP's entityID: required when the metadata describes several entities (a federation's aggregate), and
     * checked against it otherwise.
     */
    entityId: z.string().min(1).optional(),
    /** How often the metadata (endpoints, signing certificates: rollover) is read again. */
    refreshSeconds: z.number().int().min(60).default(3600),
    /**
     * The certificate(s) the metadata must be signed with (PEM; several during a rollover). Then only the signed
     * part of the metadata is read, and an expired `validUntil` is refused. TLS alone vouches for the server, not for
     * what a federation's aggregate says.
     */
    metadataSigningCertificate: z.union([PemSchema, z.array(PemSchema).min(1)]).optional(),
    /** CA bundle for an https metadata URL whose server a private CA signed. */
    caFile: z.string().optional(),
    /** Only for development: a metadata URL over plain http. */
    allowInsecureHttp: z.boolean().default(false),
  })
  .strict()
  .refine((idp) => (idp.metadataUrl === undefined) !== (idp.metadataFile === undefined), {
    message: "set exactly one of metadataUrl and metadataFile",
  });

/** Archway as the service provider: its entityID and keys. */
export const SamlSpSchema = z
  .object({
    /** Default: the metadata URL, `<publicUrl>/login/sso/<id>/metadata`. */
    entityId: z.string().min(1).optional(),
    /** Signs AuthnRequests and logout messages (RSA, PEM); its certificate goes into Archway's metadata. */
    privateKey: SecretSchema.optional(),
    certificate: PemSchema.optional(),
    /** Decrypts encrypted assertions; its certificate goes into the metadata as the encryption key. */
    decryptionKey: SecretSchema.optional(),
    decryptionCertificate: PemSchema.optional(),
  })
  .strict()
  .refine((sp) => (sp.privateKey === undefined) === (sp.certificate === undefined), {
    message: "privateKey and certificate go together",
  })
  .refine((sp) => (sp.decryptionKey === undefined) === (sp.decryptionCertificate === undefined), {
    message: "decryptionKey and decryptionCertificate go together",
  });

/**
 * Which attribute of the assertion gives each identity field. `nameID` means the Subject's NameID; every other value
 * is an attribute's Name as the IdP sends it (`uid`, `urn:oid:0.9.2342.19200300.100.1.1`, a claim URI of AD FS).
 */
export const SamlAttributesSchema = z
  .object({
    /** The stable id (a persistent NameID, or an immutable attribute such as an objectGUID). */
    id: z.string().default("nameID"),
    username: z.string().default("uid"),
    email: z.string().default("mail"),
    displayName: z.string().default("displayName"),
    groups: z.string().default("memberOf"),
  })
  .strict();

/** A SAML 2.0 identity provider (AD FS, Shibboleth, Keycloak, SimpleSAMLphp) people are sent to. */
export const SamlSourceSchema = z
  .object({
    id: IdSchema,
    type: z.literal("saml"),
    mfa: MfaModeSchema,
    displayName: z.string().optional(),
    idp: SamlIdpSchema,
    sp: SamlSpSchema.default({}),
    /** How the AuthnRequest travels: HTTP-Redirect (a query string) or HTTP-POST (a form the browser sends). */
    requestBinding: z.enum(["redirect", "post"]).default("redirect"),
    /**
     * What must carry the IdP's signature: the assertion, the whole response, both, or either (at least one; the
     * default). Nothing unsigned is ever accepted.
     */
    signed: z.enum(["assertion", "response", "both", "either"]).default("either"),
    /** Clock difference tolerated on NotBefore / NotOnOrAfter. */
    clockSkewSeconds: z.number().int().min(0).max(300).default(60),
    nameIdFormat: z.string().default("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
    /** Ask the IdP to authenticate the person again even with a session there. */
    forceAuthn: z.boolean().default(false),
    /** AuthnContextClassRef values that count as multi-factor, for policies that require a second factor. */
    strongAuthnContexts: z.array(z.string().min(1)).default([]),
    attributes: SamlAttributesSchema.default({
      id: "nameID",
      username: "uid",
      email: "mail",
      displayName: "displayName",
      groups: "memberOf",
    }),
  })
  .strict();

/** A SAML source's configuration. */
export type SamlSourceConfig = z.infer<typeof SamlSourceSchema>;
