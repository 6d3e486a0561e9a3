import { createHash } from "node:crypto";
import type { Identity } from "../identity/index.js";

/**
 * Fields a template may use; anything else is a compile error. `attributes.<name>` takes the first value; `group` is
 * the directory group a `spec.forEach` grant set is made for (a compile error elsewhere, see compile.ts).
 */
export const TEMPLATE_FIELDS = ["username", "email", "displayName", "source", "cloud", "group"] as const;
type Field = (typeof TEMPLATE_FIELDS)[number] | `attributes.${string}`;

type Part = { literal: string } | { field: Field };

/** A parsed template such as `u-{{ username }}`. */
export interface Template {
  readonly source: string;
  readonly parts: readonly Part[];
  /** True when the template has no fields (the same for everyone). */
  readonly constant: boolean;
  /**
   * Renders for one person in one cloud, and for one directory group under `spec.forEach` (compiled once, so a
   * login pays no parsing or field lookup).
   */
  readonly render: (identity: Identity, cloudId: string, group?: string) => string;
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
  const constant = parts.every((p) => "literal" in p);
  return { source, parts, constant, render: constant ? () => source : compileRender(parts) };
}

type Getter = (identity: Identity, cloudId: string, group?: string) => string;

/** One function per template: the field getters are chosen here, not on every render. */
function compileRender(parts: readonly Part[]): Getter {
  const getters = parts.map((part): Getter => {
    if ("literal" in part) {
      const literal = part.literal;
      return () => literal;
    }
    return fieldGetter(part.field);
  });
  const [a, b] = getters;
  if (a && getters.length === 1) return a;
  if (a && b && getters.length === 2)
    return (identity, cloudId, group) => a(identity, cloudId, group) + b(identity, cloudId, group);
  return (identity, cloudId, group) => {
    let out = "";
    for (const get of getters) out += get(identity, cloudId, group);
    return out;
  };
}

function isField(name: string): name is Field {
  return (TEMPLATE_FIELDS as readonly string[]).includes(name) || /^attributes\.[A-Za-z0-9_.:-]+$/.test(name);
}

/** Renders a template for one person in one cloud (and directory group); a missing field renders empty. */
export function renderTemplate(t: Template, identity: Identity, cloudId: string, group?: string): string {
  return t.render(identity, cloudId, group);
}

/** True when the template uses `field` (e.g. `group`, `cloud`). */
export function usesField(t: Template | undefined, field: (typeof TEMPLATE_FIELDS)[number]): boolean {
  return t?.parts.some((p) => "field" in p && p.field === field) ?? false;
}

function fieldGetter(field: Field): Getter {
  switch (field) {
    case "username":
      return (identity) => identity.username;
    case "email":
      return (identity) => identity.email ?? "";
    case "displayName":
      return (identity) => identity.displayName ?? "";
    case "source":
      return (identity) => identity.source;
    case "cloud":
      return (_identity, cloudId) => cloudId;
    case "group":
      return (_identity, _cloudId, group) => group ?? "";
    default: {
      const name = field.slice("attributes.".length);
      // `attributes.constructor` names an attribute, not Object's constructor: only such names pay for hasOwn.
      if (name in Object.prototype) {
        return (identity) =>
          (Object.hasOwn(identity.attributes, name) ? identity.attributes[name]?.[0] : undefined) ?? "";
      }
      return (identity) => identity.attributes[name]?.[0] ?? "";
    }
  }
}

/** Keystone's limit on project (and user, group) names. */
export const KEYSTONE_NAME_MAX = 64;

/**
 * Makes a rendered name safe as a Keystone project name: characters other than letters, digits and `_.@-` become `-`,
 * runs collapse, and a name over 64 characters is cut and suffixed with a hash of the whole, so two long names
 * stay distinct. Returns null when nothing usable is left.
 */
export function keystoneName(raw: string): string | null {
  if (alreadySafe(raw)) return raw; // the common case, without Unicode normalization
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

/**
 * Whether {@link keystoneName} would return `raw` unchanged: 1 to 64 of `A-Za-z0-9_.@-`, neither starting nor
 * ending with `.` or `-`. A loop over code units: every project grant of every login asks, and it costs less than
 * the equivalent regular expression.
 */
export function alreadySafe(raw: string): boolean {
  const last = raw.length - 1;
  if (last < 0 || last >= KEYSTONE_NAME_MAX) return false;
  for (let i = 0; i <= last; i++) {
    const c = raw.charCodeAt(i);
    const alnum = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
    if (alnum || c === 0x5f || c === 0x40) continue; // _ @
    if ((c === 0x2e || c === 0x2d) && i > 0 && i < last) continue; // . - (not first or last)
    return false;
  }
  return true;
}
