import { isIPv4, isIPv6 } from "node:net";
import { addressOnly } from "../util/trusted-proxies";

/**
 * The caller's IP as its per-IP OTP budget sees it (docs/security-requirements.md B3): one spelling per network
 * address, whatever wrote it (the socket, or a trusted proxy's X-Forwarded-For, which Fastify passes on as written).
 * - IPv4: as is (Node's own parser and isIPv4 admit only the dotted-decimal form without leading zeros).
 * - IPv4-mapped IPv6 (`::ffff:198.51.100.7`, `::ffff:c633:6407`): the IPv4 address it maps, the same host.
 * - other IPv6: its /64 prefix, as `2001:db8:0:7::/64`. One subscriber is given at least a /64 (RFC 6177) and can
 *   pick any of its 2^64 addresses per request, so a per-address budget would not limit anybody; `2001:DB8::1`,
 *   `2001:db8:0:0:0:0:0:1` and `2001:db8::ffff` are one budget.
 * - an address with a port, or in brackets (`198.51.100.7:50001`, `[2001:db8::1]:443`): the address alone. Some
 *   proxies write the client's source port into X-Forwarded-For (Azure Application Gateway's is `IP:port`; RFC 7239's
 *   node syntax brackets IPv6): kept whole, every new connection's port had been a per-IP budget of its own (an
 *   attack review: three sends from one address reached AOPay where the budget allowed one).
 * Anything else (not an IP address: only a misconfigured proxy could send it, one that passes X-Forwarded-For on as
 * the client wrote it, or a client inside TRUSTED_PROXIES) is kept as given, cut to MAX_UNPARSED_IP_CHARS.
 */
export function clientIpKey(raw: string): string {
  if (isIPv4(raw)) return raw;
  // Read as the trust walk reads each hop (util/trusted-proxies.ts addressOnly): port, brackets and zone left out.
  const address = addressOnly(raw);
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return raw.length > MAX_UNPARSED_IP_CHARS ? raw.slice(0, MAX_UNPARSED_IP_CHARS) : raw;
  const groups = expandIPv6(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6] >> 8}.${groups[6] & 0xff}.${groups[7] >> 8}.${groups[7] & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/**
 * The most characters kept of a client address that is not an IP address (the longest IPv6 spelling is 45). The key
 * is kept in tables of this process (KeyHasher's memo of 10,000 identifiers, admission's per-client places) and
 * hashed into a budget's key: uncut, one X-Forwarded-For of up to MAX_HEADER_BYTES (16 kB) per request could make the
 * memo hold 160 MB. Values that agree on their first 64 characters share a per-IP budget: stricter, never looser.
 */
export const MAX_UNPARSED_IP_CHARS = 64;

/** The eight 16-bit groups of a valid IPv6 address (embedded IPv4 included). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const [a, b, c, d] = tail.split(".").map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest === undefined ? [] : rest ? rest.split(":") : [];
  const zeros = rest === undefined ? [] : new Array<string>(8 - left.length - right.length).fill("0");
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16));
}
