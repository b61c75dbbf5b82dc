/**
 * @module http/trust-proxy
 * Decides whether a client address is a proxy whose X-Forwarded-* headers may be believed.
 * Compiled once per config from `server.trustProxy` (CIDRs or single addresses).
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, isIPv6 } from 'node:net';

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

/**
 * The client's address: the peer, or when the peer is a trusted proxy, the nearest address in
 * X-Forwarded-For that is not itself a trusted proxy (walking right to left, as nginx's
 * real_ip_recursive and Envoy's xff_num_trusted_hops do). Computed once per request.
 */
export function clientAddressOf(req: IncomingMessage, peerTrusted: boolean, trust: TrustCheck): string {
  const remote = req.socket.remoteAddress ?? '';
  const peer = remote.startsWith('::ffff:') ? remote.slice(7) : remote;
  if (!peerTrusted) return peer;
  const header = req.headers['x-forwarded-for'];
  if (!header) return peer;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  let client = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (!isIP(hop.startsWith('::ffff:') ? hop.slice(7) : hop)) break;
    client = hop.startsWith('::ffff:') ? hop.slice(7) : hop;
    if (!trust(client)) break;
  }
  return client;
}
