import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { limits } from '../../../platform/limits.js';

/**
 * Where a webhook may be sent (SSRF protection). A URL is checked when an endpoint is created or
 * updated and again before every delivery; the delivery then connects to the very address that
 * was checked, so a DNS answer that changes between check and connect (rebinding) cannot redirect it.
 */

export interface ResolvedAddress {
  address: string;
  /** 4 or 6 */
  family: number;
}

/** Resolves a host name to every address it has (dns.lookup with all: true by default). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => ({
    address: entry.address,
    family: entry.family,
  }));

/** A URL that passed the checks, and the address to connect to. */
export interface CheckedTarget {
  url: URL;
  address: ResolvedAddress;
}

/** `privateAddress`: refused only because of the address policy (YUNPAY_WEBHOOK_ALLOW_PRIVATE lifts it). */
export type TargetCheck = { ok: true; target: CheckedTarget } | { ok: false; reason: string; privateAddress?: true };

/** The parts of a URL we accept, without resolving it. Returns the reason it is refused, or null. */
export function urlShapeProblem(text: string): { url: URL } | { reason: string } {
  if (text.length > limits.webhookUrlLengthMax) return { reason: `is longer than ${limits.webhookUrlLengthMax}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { reason: 'is not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: 'must use http or https' };
  if (url.username !== '' || url.password !== '') return { reason: 'must not contain credentials' };
  if (url.hostname === '') return { reason: 'has no host' };
  return { url };
}

/** The 16 bytes of an IPv6 address (zone id ignored), or null when it is not one. */
function ipv6Bytes(text: string): number[] | null {
  let address = text.split('%')[0] ?? '';
  if (isIP(address) !== 6) return null;
  const tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  const last = address.slice(lastColon + 1);
  if (last.includes('.')) {
    // An embedded dotted quad (::ffff:127.0.0.1) becomes two groups.
    const quad = last.split('.').map(Number);
    tail.push(...quad);
    address = `${address.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = address.split('::') as [string, string | undefined];
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const headGroups = groupsOf(head);
  const restGroups = rest === undefined ? [] : groupsOf(rest);
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<number>(zeros).fill(0), ...restGroups];
  if (groups.length !== 8) return null;
  const bytes = groups.flatMap((group) => [(group >> 8) & 0xff, group & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

function ipv4Bytes(text: string): number[] | null {
  if (isIP(text) !== 4) return null;
  return text.split('.').map(Number);
}

/** [first octets, prefix length] of IPv4 ranges no webhook may reach. */
const ipv4Blocked: readonly (readonly [readonly number[], number])[] = [
  [[0], 8], // "this network", including 0.0.0.0
  [[10], 8], // private
  [[100, 64], 10], // carrier-grade NAT
  [[127], 8], // loopback
  [[169, 254], 16], // link-local, including 169.254.169.254 (cloud metadata)
  [[172, 16], 12], // private
  [[192, 0, 0], 24], // IETF protocol assignments
  [[192, 0, 2], 24], // documentation
  [[192, 168], 16], // private
  [[198, 18], 15], // benchmarking
  [[198, 51, 100], 24], // documentation
  [[203, 0, 113], 24], // documentation
  [[224], 4], // multicast
  [[240], 4], // reserved, including 255.255.255.255
];

const ipv6Blocked: readonly (readonly [readonly number[], number])[] = [
  [[0xfc], 7], // unique local
  [[0xfe, 0x80], 10], // link-local
  [[0xfe, 0xc0], 10], // site-local (deprecated)
  [[0xff], 8], // multicast
  [[0x20, 0x01, 0x0d, 0xb8], 32], // documentation
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64], // discard
];

function inPrefix(bytes: readonly number[], prefix: readonly number[], length: number): boolean {
  for (let bit = 0; bit < length; bit += 1) {
    const index = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if (((bytes[index] ?? 0) & mask) !== ((prefix[index] ?? 0) & mask)) return false;
  }
  return true;
}

/**
 * True for loopback, private, link-local (metadata), unspecified, multicast, CGNAT, documentation
 * and reserved addresses, and for IPv6 forms that embed such an IPv4 address (mapped ::ffff:a.b.c.d,
 * compatible ::a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). Anything that is not an IP address is refused.
 */
export function isForbiddenAddress(address: string): boolean {
  const v4 = ipv4Bytes(address);
  if (v4 !== null) return ipv4Blocked.some(([prefix, length]) => inPrefix(v4, prefix, length));
  const v6 = ipv6Bytes(address);
  if (v6 === null) return true;
  const firstTenZero = v6.slice(0, 10).every((byte) => byte === 0);
  // ::/96 (:: and ::1 included) and ::ffff:0:0/96 carry an IPv4 address in the last 4 bytes.
  if (firstTenZero && ((v6[10] === 0 && v6[11] === 0) || (v6[10] === 0xff && v6[11] === 0xff))) {
    return isForbiddenAddress(v6.slice(12).join('.'));
  }
  if (inPrefix(v6, [0, 0x64, 0xff, 0x9b], 96)) return isForbiddenAddress(v6.slice(12).join('.'));
  if (v6[0] === 0x20 && v6[1] === 0x02) return isForbiddenAddress(v6.slice(2, 6).join('.'));
  return ipv6Blocked.some(([prefix, length]) => inPrefix(v6, prefix, length));
}

/**
 * Checks a webhook URL and resolves its host: refused when the URL's shape is wrong, the host does
 * not resolve, or (unless allowPrivate) ANY of its addresses is forbidden. Operating errors are
 * returned as values, never thrown.
 */
export async function checkTarget(
  text: string,
  options: { resolver: HostResolver; allowPrivate: boolean },
): Promise<TargetCheck> {
  const shape = urlShapeProblem(text);
  if ('reason' in shape) return { ok: false, reason: shape.reason };
  const url = shape.url;
  // URL keeps IPv6 literals in brackets.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let addresses: ResolvedAddress[];
  const literal = isIP(host);
  if (literal !== 0) {
    addresses = [{ address: host, family: literal }];
  } else {
    try {
      addresses = (await options.resolver(host)).slice(0, limits.webhookResolvedAddressesMax);
    } catch {
      return { ok: false, reason: `host ${host} does not resolve` };
    }
  }
  const first = addresses[0];
  if (first === undefined) return { ok: false, reason: `host ${host} does not resolve` };
  if (!options.allowPrivate) {
    for (const entry of addresses) {
      if (isForbiddenAddress(entry.address)) {
        return {
          ok: false,
          reason: `host ${host} resolves to a private, loopback or link-local address`,
          privateAddress: true,
        };
      }
    }
  }
  return { ok: true, target: { url, address: first } };
}
