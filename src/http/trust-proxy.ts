/**
 * @module http/trust-proxy
 * Decides whether a client address is a proxy whose X-Forwarded-* headers may be believed.
 * Compiled once per config from `server.trustProxy` (CIDRs or single addresses).
 */
import { BlockList, isIPv6 } from 'node:net';

export type TrustCheck = (remoteAddress: string | undefined) => boolean;

const NOBODY: TrustCheck = () => false;

/** Builds the check; an empty list trusts nobody and costs nothing per request. */
export function compileTrustProxy(entries: readonly string[]): TrustCheck {
  if (entries.length === 0) return NOBODY;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return (remoteAddress) => {
    if (!remoteAddress) return false;
    // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d.
    const address = remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
    return list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  };
}
