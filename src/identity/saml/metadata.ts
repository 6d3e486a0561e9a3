import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Agent } from "undici";
import { ArchwayError } from "../../errors.js";
import { verifiedMetadataXml } from "./metadata-signature.js";
import type { SamlSourceConfig } from "./schema.js";
import { children, NS, parseXml, select, selectNs, textOf, type XmlElement } from "./xml.js";

const BINDING = {
  redirect: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
  post: "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
} as const;

/** What Archway needs of an IdP's metadata. */
export interface IdpMetadata {
  entityId: string;
  /** SingleSignOnService locations per binding. */
  sso: { redirect?: string; post?: string };
  /** SingleLogoutService locations per binding (none: no single logout). */
  slo: { redirect?: string; post?: string };
  /**
   * Every signing certificate listed (base64 DER, as in the metadata): during a rollover the IdP lists the old and
   * the new one, and a signature by either is accepted.
   */
  signingCerts: string[];
}

/**
 * Reads the IdP's description from SAML metadata: the `EntityDescriptor` with an `IDPSSODescriptor` (the one named
 * `entityId` when given; required when there are several), its SSO and SLO endpoints, and its signing certificates
 * (KeyDescriptors with `use="signing"` or no `use`). Throws `Error` with the reason when something is missing.
 */
export async function parseIdpMetadata(xml: string, entityId?: string): Promise<IdpMetadata> {
  const root = await parseXml(xml);
  const entities =
    root.localName === "EntityDescriptor"
      ? [root]
      : selectNs(root, ".//*[local-name()='EntityDescriptor']", NS.metadata);
  const idps = entities.filter(
    (e) => e.namespaceURI === NS.metadata && selectNs(e, children("IDPSSODescriptor"), NS.metadata).length > 0,
  );
  const chosen = entityId ? idps.filter((e) => e.getAttribute("entityID") === entityId) : idps;
  if (chosen.length === 0)
    throw new Error(entityId ? `no IdP with entityID ${entityId} in the metadata` : "no IdP in the metadata");
  if (chosen.length > 1) throw new Error("the metadata lists several IdPs: set idp.entityId");
  const entity = chosen[0] as XmlElement;
  const idp = selectNs(entity, children("IDPSSODescriptor"), NS.metadata)[0] as XmlElement;
  const endpoints = (name: string) => {
    const found: { redirect?: string; post?: string } = {};
    for (const e of selectNs(idp, children(name), NS.metadata)) {
      const location = e.getAttribute("Location");
      if (!location) continue;
      if (e.getAttribute("Binding") === BINDING.redirect) found.redirect ??= location;
      if (e.getAttribute("Binding") === BINDING.post) found.post ??= location;
    }
    return found;
  };
  const signingCerts = selectNs(idp, children("KeyDescriptor"), NS.metadata)
    .filter((k) => [null, "", "signing"].includes(k.getAttribute("use")))
    .flatMap((k) => select(k, ".//*[local-name()='X509Certificate']").filter((c) => c.namespaceURI === NS.dsig))
    .map((c) => (textOf(c) ?? "").replace(/\s+/g, ""))
    .filter(Boolean);
  const sso = endpoints("SingleSignOnService");
  if (!sso.redirect && !sso.post)
    throw new Error("the IdP lists no SingleSignOnService for HTTP-Redirect or HTTP-POST");
  if (signingCerts.length === 0) throw new Error("the IdP lists no signing certificate");
  return { entityId: entity.getAttribute("entityID") ?? "", sso, slo: endpoints("SingleLogoutService"), signingCerts };
}

/**
 * The IdP's metadata, read from its URL or file and read again every `refreshSeconds` (on the first use after that
 * time), or at once by {@link refresh} (readiness, a signature no listed certificate verifies). A failed refresh
 * keeps the last good copy, so an IdP whose metadata server blinks goes on working; it is retried on the next use.
 */
export class IdpMetadataCache {
  readonly #c: SamlSourceConfig;
  readonly #dispatcher: Agent | undefined;
  readonly #now: () => number;
  #current: { metadata: IdpMetadata; at: number } | undefined;
  #loading: Promise<IdpMetadata> | undefined;

  constructor(config: SamlSourceConfig, opts: { now?: () => number } = {}) {
    this.#c = config;
    this.#now = opts.now ?? Date.now;
    const url = config.idp.metadataUrl ? new URL(config.idp.metadataUrl) : undefined;
    if (url && url.protocol !== "https:" && !config.idp.allowInsecureHttp)
      throw new ArchwayError(
        "config_invalid",
        `identity source ${config.id}: idp.metadataUrl must be https (set allowInsecureHttp only for development)`,
        500,
      );
    if (config.idp.caFile) this.#dispatcher = new Agent({ connect: { ca: readFileSync(config.idp.caFile) } });
  }

  /** How old the copy in hand is (ms), or Infinity before the first read. */
  age(): number {
    return this.#current ? this.#now() - this.#current.at : Number.POSITIVE_INFINITY;
  }

  /** The metadata, read again when older than `refreshSeconds`. */
  async get(): Promise<IdpMetadata> {
    if (this.#current && this.age() < this.#c.idp.refreshSeconds * 1000) return this.#current.metadata;
    return this.refresh().catch((err) => {
      if (this.#current) return this.#current.metadata;
      throw err;
    });
  }

  /** Reads the metadata now (one read at a time); rejects with `directory_unavailable` when it cannot. */
  refresh(): Promise<IdpMetadata> {
    this.#loading ??= this.#read().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  async close(): Promise<void> {
    await this.#dispatcher?.close();
  }

  async #read(): Promise<IdpMetadata> {
    const { idp } = this.#c;
    try {
      let xml: string;
      if (idp.metadataFile) xml = await readFile(idp.metadataFile, "utf8");
      else {
        const res = await fetch(
          idp.metadataUrl as string,
          {
            signal: AbortSignal.timeout(10_000),
            ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
          } as RequestInit,
        );
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        xml = await res.text();
      }
      const pinned = idp.metadataSigningCertificate;
      if (pinned) xml = await verifiedMetadataXml(xml, typeof pinned === "string" ? [pinned] : pinned, this.#now());
      const metadata = await parseIdpMetadata(xml, idp.entityId);
      this.#current = { metadata, at: this.#now() };
      return metadata;
    } catch (err) {
      throw new ArchwayError(
        "directory_unavailable",
        `identity source ${this.#c.id}: IdP metadata from ${idp.metadataUrl ?? idp.metadataFile} could not be read (${(err as Error).message})`,
        503,
        { cause: err },
      );
    }
  }
}
