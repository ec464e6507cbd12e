import proxyAddr from "@fastify/proxy-addr";
import type { IncomingMessage } from "node:http";
import { isIP, isIPv6 } from "node:net";

/**
 * Whether `address`, `hop` steps from this server (0: the socket's peer), is a trusted proxy: the function Fastify's
 * `trustProxy` option takes (fastify/lib/request.js getTrustProxyFn returns a function as given) and
 * @fastify/proxy-addr's `all` asks, hop by hop, reading X-Forwarded-For from the right.
 */
export type TrustProxy = (address: string, hop: number) => boolean;

/**
 * TRUSTED_PROXIES compiled once (@fastify/proxy-addr `compile`), for every reader of the rule: Fastify's
 * `request.ip` and `request.protocol` (http-server.ts trustProxy), the thin route's client IP (thin-graphql.ts), the
 * protocol of a request Fastify never sees (cors.ts requestProtocol) and the connection guard's proxy exemption
 * (connection-guard.ts). Before, it was compiled three times and the guard kept a BlockList of its own: four copies of
 * one rule that could drift. null when the list is empty: X-Forwarded-For and X-Forwarded-Proto are never read.
 * `entries` must have passed `trustedProxyProblem` (server.settings.ts); anything else throws.
 */
export function compileTrustedProxies(entries: readonly string[]): TrustProxy | null {
  if (entries.length === 0) return null;
  const compiled = proxyAddr.compile([...entries]);
  // Each hop compared as an address alone (addressOnly): a trusted proxy that writes its own hop into X-Forwarded-For
  // as `IP:port` (Azure Application Gateway's form) was not recognised, the walk stopped at it, and every client behind
  // it had its address as theirs (http/client-ip.ts keys `IP:port` as IP): one per-IP budget for them all. A link-local
  // peer's zone index (`fe80::1%eth0`) is compared without it too, as the entries hold none (trustedProxyProblem).
  return (address, hop) => compiled(addressOnly(address), hop);
}

const IPV4_WITH_PORT = /^([0-9.]{7,15}):[0-9]{1,5}$/;
const BRACKETED = /^\[([^\]]{2,})\](?::[0-9]{1,5})?$/;

/**
 * A client or proxy address as written by whoever wrote it, reduced to the address alone: without a port after an
 * IPv4 address (`198.51.100.7:50001`), without the brackets and port around an IPv6 one (`[2001:db8::1]:443`, RFC
 * 7239's node syntax), without an IPv6 zone index (`fe80::1%eth0`: it names an interface of the host that saw it, not
 * the sender). Anything else as it is. The one reading for both the trust walk (compileTrustedProxies) and the client
 * IP's budget key (http/client-ip.ts clientIpKey).
 */
export function addressOnly(raw: string): string {
  const v4 = IPV4_WITH_PORT.exec(raw);
  if (v4) return v4[1];
  const bracketed = BRACKETED.exec(raw);
  const ip = bracketed ? bracketed[1] : raw;
  const zone = ip.indexOf("%");
  return zone > 0 && isIPv6(ip.slice(0, zone)) ? ip.slice(0, zone) : ip;
}

/**
 * As Fastify's `request.ip` (fastify/lib/request.js: the same library and call) for a request Fastify never sees (the
 * thin route, thin-graphql.ts): without TRUSTED_PROXIES the socket's peer; with them, X-Forwarded-For read from the
 * right while each hop is a trusted proxy.
 */
export function clientAddress(req: IncomingMessage, trust: TrustProxy | null): string {
  if (trust === null) return req.socket.remoteAddress as string;
  const addresses = proxyAddr.all(req, trust);
  return addresses[addresses.length - 1];
}

/**
 * Why a TRUSTED_PROXIES entry is refused, or null: an IPv4/IPv6 address, or one with a prefix length (CIDR), that
 * @fastify/proxy-addr compiles. The compiler is the judge, so the check at start and the rule at run time cannot
 * disagree: before, `0.0.0.0/0` and `::/0` passed the settings check and then stopped the start with proxy-addr's
 * "invalid range on address" and exit code 1, naming no setting. A prefix length of 0 would trust every peer (any
 * client could write its own X-Forwarded-For): proxy-addr refuses it, and so do we, saying why. Named ranges
 * (`loopback`) and netmasks (`/255.0.0.0`), which proxy-addr also takes, are refused: the documented form is IPs and
 * CIDRs. An IPv6 zone index (`fe80::1%eth0`) is refused, saying to write the address without it: each hop is compared
 * without one (addressOnly), so such an entry would match nothing (it compiled, and silently trusted no peer).
 */
export function trustedProxyProblem(entry: string): string | null {
  const [address, bits, extra] = entry.split("/");
  if (address.includes("%") && isIPv6(address.slice(0, address.indexOf("%")))) {
    const bare = address.slice(0, address.indexOf("%"));
    return (
      `an IPv6 zone index is not taken: addresses are compared without one; write ${bare}` +
      `${bits === undefined ? "" : `/${bits}`} (bad entry: ${JSON.stringify(entry)})`
    );
  }
  const family = isIP(address);
  const maxBits = family === 6 ? 128 : 32;
  if (family === 0 || extra !== undefined || (bits !== undefined && !/^[0-9]{1,3}$/.test(bits))) {
    return `entries must be IP addresses or CIDRs, e.g. 10.0.0.0/8,192.0.2.7 (bad entry: ${JSON.stringify(entry)})`;
  }
  if (bits !== undefined && Number(bits) === 0) {
    return (
      `a prefix length of 0 would trust every address, and any client could set its own X-Forwarded-For ` +
      `(bad entry: ${JSON.stringify(entry)})`
    );
  }
  if (bits !== undefined && Number(bits) > maxBits) {
    return `an IPv${family} prefix length is at most ${maxBits} (bad entry: ${JSON.stringify(entry)})`;
  }
  try {
    proxyAddr.compile([entry]);
  } catch {
    return `not an address @fastify/proxy-addr takes (bad entry: ${JSON.stringify(entry)})`;
  }
  return null;
}
