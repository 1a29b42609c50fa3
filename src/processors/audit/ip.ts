// IP literals: which are public (worth a country lookup), normalisation of
// IPv4-mapped IPv6, and prefix truncation (/24, /48) for pseudonymisation.
import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges that are not globally routable (IANA special-purpose registry). [network, prefix bits] */
const IPV4_SPECIAL: [number, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['192.175.48.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
].map(([net, bits]) => [ipv4ToInt(net as string)!, bits as number]);

export function ipv4ToInt(s: string): number | undefined {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return undefined;
  return n * 256 + part;
}

function intToIpv4(n: number): string {
  return `${Math.floor(n / 16777216) % 256}.${Math.floor(n / 65536) % 256}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

function inV4Range(ip: number, net: number, bits: number): boolean {
  const size = 2 ** (32 - bits);
  return ip >= net && ip < net + size;
}

export function isPublicIpv4(s: string): boolean {
  const n = ipv4ToInt(s);
  if (n === undefined) return false;
  for (const [net, bits] of IPV4_SPECIAL) if (inV4Range(n, net, bits)) return false;
  return true;
}

/** Eight 16-bit groups of an IPv6 literal (with `::` and an embedded IPv4 tail), or undefined. */
export function ipv6Groups(s: string): number[] | undefined {
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!isIPv6(s)) return undefined;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    const v4 = ipv4ToInt(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const dbl = s.indexOf('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  let groups: number[];
  if (dbl >= 0) {
    const head = parse(s.slice(0, dbl));
    const rest = parse(s.slice(dbl + 2));
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    groups = parse(s);
  }
  if (groups.length !== 8) return undefined;
  if (tail.length === 2) {
    groups[6] = tail[0];
    groups[7] = tail[1];
  }
  return groups;
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; other addresses unchanged. */
export function unmapIpv4(s: string): string {
  if (s.length > 7 && (s.startsWith('::ffff:') || s.startsWith('::FFFF:')) && isIPv4(s.slice(7))) return s.slice(7);
  return s;
}

/** Global unicast IPv6: inside 2000::/3 and outside the special-purpose blocks carved from it. */
export function isPublicIpv6(s: string): boolean {
  const g = ipv6Groups(s);
  if (!g) return false;
  if ((g[0] & 0xe000) !== 0x2000) return false; // not 2000::/3 (covers ::1, ::, fc00::/7, fe80::/10, ff00::/8, ::ffff:0:0/96)
  if (g[0] === 0x2001 && g[1] < 0x0200) return false; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, benchmarking…)
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // 2001:db8::/32 documentation
  if (g[0] === 0x2002) return false; // 6to4
  if (g[0] === 0x3fff && g[1] < 0x1000) return false; // 3fff::/20 documentation
  return true;
}

/** Whether an address may have a country: a public IPv4 or IPv6 literal (host names are never resolved). */
export function isPublicIp(s: string): boolean {
  const a = unmapIpv4(s);
  if (isIPv4(a)) return isPublicIpv4(a);
  return isPublicIpv6(a);
}

/** The address with its host bits zeroed (`1.2.3.4` /24 → `1.2.3.0`; IPv6 /48 → `2001:db8:1::`), or undefined for a non-IP. */
export function truncateIp(s: string, v4Bits: number, v6Bits: number): string | undefined {
  const a = unmapIpv4(s);
  const n = ipv4ToInt(a);
  if (n !== undefined) {
    const size = 2 ** (32 - v4Bits);
    return intToIpv4(Math.floor(n / size) * size);
  }
  const g = ipv6Groups(a);
  if (!g) return undefined;
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, v6Bits - i * 16));
    g[i] = keep === 0 ? 0 : g[i] & ((0xffff << (16 - keep)) & 0xffff);
  }
  return formatIpv6(g);
}

/** RFC 5952 text: lowercase, leading zeros dropped, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(g: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
