import type { Entry } from "ldapts";
import { guidToString } from "./ad.js";

/** An attribute's values as strings, whatever the case the server used for its name. */
export function values(entry: Entry, name: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  const raw = key === undefined ? undefined : entry[key];
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v)));
}

/** The immutable id, with Active Directory's binary objectGUID in its usual text form. */
export function immutableId(entry: Entry, attribute: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const raw = key === undefined ? undefined : entry[key];
  const first = Array.isArray(raw) ? raw[0] : raw;
  // The directory asks for objectGUID as bytes (AD_BINARY_ATTRIBUTES), whatever they happen to decode as.
  if (Buffer.isBuffer(first) && first.length === 16) return guidToString(first);
  return first === undefined ? undefined : String(first);
}
