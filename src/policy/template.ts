import { createHash } from "node:crypto";
import type { Identity } from "../identity/index.js";

/** Fields a template may use; anything else is a compile error. `attributes.<name>` takes the first value. */
export const TEMPLATE_FIELDS = ["username", "email", "displayName", "source", "cloud"] as const;
type Field = (typeof TEMPLATE_FIELDS)[number] | `attributes.${string}`;

type Part = { literal: string } | { field: Field };

/** A parsed template such as `u-{{ username }}`. */
export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
  /** True when the template has no fields (the same for everyone). */
  readonly constant: boolean;
}

/** Thrown by {@link parseTemplate} with a message that names the bad field. */
export class TemplateError extends Error {}

const FIELD = /\{\{\s*([^}]*?)\s*\}\}/g;

/** Parses a template, refusing unknown fields and stray braces. */
export function parseTemplate(source: string): Template {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(FIELD)) {
    const name = match[1] ?? "";
    if (!isField(name)) {
      throw new TemplateError(
        `unknown template field '${name}' (expected one of ${TEMPLATE_FIELDS.join(", ")}, attributes.<name>)`,
      );
    }
    if (match.index > last) parts.push({ literal: source.slice(last, match.index) });
    parts.push({ field: name });
    last = match.index + match[0].length;
  }
  if (last < source.length) parts.push({ literal: source.slice(last) });
  const literals = parts.flatMap((p) => ("literal" in p ? [p.literal] : []));
  if (literals.some((l) => l.includes("{{") || l.includes("}}"))) {
    throw new TemplateError(`unbalanced '{{' or '}}' in template '${source}'`);
  }
  return { source, parts, constant: parts.every((p) => "literal" in p) };
}

function isField(name: string): name is Field {
  return (TEMPLATE_FIELDS as readonly string[]).includes(name) || /^attributes\.[A-Za-z0-9_.:-]+$/.test(name);
}

/** Renders a template for one person in one cloud; a missing field renders empty. */
export function renderTemplate(t: Template, identity: Identity, cloudId: string): string {
  if (t.constant) return t.source;
  let out = "";
  for (const part of t.parts) {
    if ("literal" in part) out += part.literal;
    else out += fieldValue(part.field, identity, cloudId);
  }
  return out;
}

function fieldValue(field: Field, identity: Identity, cloudId: string): string {
  switch (field) {
    case "username":
      return identity.username;
    case "email":
      return identity.email ?? "";
    case "displayName":
      return identity.displayName ?? "";
    case "source":
      return identity.source;
    case "cloud":
      return cloudId;
    default:
      return identity.attributes[field.slice("attributes.".length)]?.[0] ?? "";
  }
}

/** Keystone's limit on project (and user, group) names. */
export const KEYSTONE_NAME_MAX = 64;

/**
 * Makes a rendered name safe as a Keystone project name: characters other than letters, digits and `_.@-` become `-`,
 * runs collapse, and a name over 64 characters is cut and suffixed with a hash of the whole, so two long names
 * stay distinct. Returns null when nothing usable is left.
 */
const ALREADY_SAFE = /^[A-Za-z0-9_@][A-Za-z0-9_.@-]{0,62}[A-Za-z0-9_@]$|^[A-Za-z0-9_@]$/;

export function keystoneName(raw: string): string | null {
  if (ALREADY_SAFE.test(raw)) return raw; // the common case, without Unicode normalization
  const cleaned = raw
    .normalize("NFKC")
    .replace(/[^\p{L}\p{N}_.@-]+/gu, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "");
  if (cleaned === "") return null;
  if (cleaned.length <= KEYSTONE_NAME_MAX) return cleaned;
  const hash = createHash("sha256").update(cleaned).digest("hex").slice(0, 8);
  return `${cleaned.slice(0, KEYSTONE_NAME_MAX - 9)}-${hash}`;
}
