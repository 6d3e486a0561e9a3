import { BlockList, isIP } from "node:net";
import { headerOf, type RequestHeaders } from "../env.js";

const SEEN_LIMIT = 4096;

/** One `http.trustedProxies` entry: a plain IPv4/IPv6 address or a CIDR range; a reason when it is neither. */
export function parseProxyEntry(
  entry: string,
): { address: string; prefix: number; family: "ipv4" | "ipv6" } | { error: string } {
  const [rawAddress = "", rawPrefix, extra] = entry.trim().split("/");
  if (extra !== undefined) return { error: `'${entry}' is not an address or CIDR range` };
  const address = canonicalIp(rawAddress);
  const version = address === undefined ? 0 : isIP(address);
  if (address === undefined || version === 0) return { error: `'${entry}' is not an IPv4 or IPv6 address` };
  const family = version === 4 ? "ipv4" : "ipv6";
  const max = version === 4 ? 32 : 128;
  if (rawPrefix === undefined) return { address, prefix: max, family };
  if (!/^\d{1,3}$/.test(rawPrefix) || Number(rawPrefix) > max)
    return { error: `'${entry}': the prefix length must be 0..${max}` };
  return { address, prefix: Number(rawPrefix), family };
}

/**
 * An address in one spelling: IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4,
 * IPv6 compressed and lower case, brackets and an IPv6 zone dropped. Undefined when it is not an address.
 */
export function canonicalIp(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith("[") && text.endsWith("]")) text = text.slice(1, -1);
  const zone = text.indexOf("%");
  if (zone >= 0) text = text.slice(0, zone);
  const version = isIP(text);
  if (version === 4) return text;
  if (version !== 6) return undefined;
  // What a dual-stack socket reports for an IPv4 client, answered without the URL parser (once per request).
  if (text.startsWith("::ffff:") && isIP(text.slice(7)) === 4) return text.slice(7);
  // The URL parser prints IPv6 hosts in RFC 5952's canonical form (compressed, lower case).
  const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const high = Number.parseInt(mapped[1] ?? "0", 16);
  const low = Number.parseInt(mapped[2] ?? "0", 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/**
 * Works out the client's address from the socket peer and `X-Forwarded-For`. Only a peer inside a trusted range is
 * believed, and then X-Forwarded-For is walked from the right (the hop our own proxy appended) past trusted hops
 * only: the first untrusted hop is the client. What an untrusted peer sends is ignored, so a spoofed header
 * cannot pick the address a limit is counted against.
 */
export class ClientAddresses {
  readonly #trusted = new BlockList();
  readonly #any: boolean;
  /**
   * What was worked out per address as written (canonical form, trusted or not): a request costs one map lookup
   * instead of parsing its peer (and BlockList's check, microseconds, for every request behind a proxy). Peers
   * are few (the proxies themselves, or clients); emptied when full so it stays bounded whatever connects.
   */
  readonly #seen = new Map<string, { ip: string | undefined; trusted: boolean }>();

  /** `trustedProxies`: plain addresses and CIDR ranges, IPv4 and IPv6; throws on an entry that is neither. */
  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const parsed = parseProxyEntry(entry);
      if ("error" in parsed) throw new Error(`http.trustedProxies: ${parsed.error}`);
      this.#trusted.addSubnet(parsed.address, parsed.prefix, parsed.family);
    }
    this.#any = trustedProxies.length > 0;
  }

  /** True when `address` (any spelling) is inside a trusted range. */
  isTrusted(address: string): boolean {
    return this.#look(address).trusted;
  }

  #look(address: string): { ip: string | undefined; trusted: boolean } {
    let seen = this.#seen.get(address);
    if (seen === undefined) {
      const ip = canonicalIp(address);
      const trusted = this.#any && ip !== undefined && this.#trusted.check(ip, isIP(ip) === 4 ? "ipv4" : "ipv6");
      seen = { ip, trusted };
      if (this.#seen.size >= SEEN_LIMIT) this.#seen.clear();
      this.#seen.set(address, seen);
    }
    return seen;
  }

  /** The client's address: `peer` unless it is a trusted proxy, then the first untrusted X-Forwarded-For hop. */
  resolve(peer: string | undefined, headers: RequestHeaders): string {
    if (peer === undefined) return "unknown";
    const seen = this.#look(peer);
    const from = seen.ip ?? peer;
    // Not a proxy (always so without trusted proxies, the default): the socket's peer, no header read at all.
    if (!seen.trusted) return from;
    const header = headerOf(headers, "x-forwarded-for");
    if (!header) return from;
    const hops = header.split(",");
    let client = from;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = this.#look((hops[i] ?? "").trim());
      // A hop that is not an address cannot be believed, nor anything left of it: the last trusted hop answers.
      if (hop.ip === undefined) return client;
      client = hop.ip;
      if (!hop.trusted) return hop.ip;
    }
    // Every hop is one of our proxies: the leftmost is as far as anyone can tell.
    return client;
  }
}
