import { isIP } from "node:net";

/**
 * The address a limit counts against: an IPv4 address as is, an IPv6 address cut to its first `prefixLength`
 * bits (`2001:db8:1:2::/64`), because one IPv6 client usually holds a whole /64 and could otherwise take a fresh
 * address for every attempt. Anything else (no observing layer: "unknown") is kept as given.
 */
export function addressKey(address: string, prefixLength: number): string {
  if (isIP(address) !== 6 || prefixLength >= 128) return address;
  const groups = expandIpv6(address);
  if (!groups) return address;
  const kept: number[] = groups.map((group, i) => {
    const bits = Math.max(0, Math.min(16, prefixLength - i * 16));
    return bits === 0 ? 0 : group & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${kept.map((g) => g.toString(16)).join(":")}/${prefixLength}`;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  return [...left, ...Array(missing).fill("0"), ...right].map((g) => Number.parseInt(g, 16));
}
