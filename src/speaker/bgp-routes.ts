// Which routes a node sends to which BGP peer: pure. Each BGP VIP becomes, per advertisement
// of its pool, a route for the VIP's prefix rolled up to the aggregation length, with the
// advertisement's communities and (for iBGP) LOCAL_PREF. Peers are those whose node
// selectors match this node; a peer with `pools` gets only those pools' VIPs.
import { anySelectorMatches } from '../config/selector.js';
import type { Config, Peer, Pool } from '../config/types.js';
import { formatAddress, parseAddress } from '../net/address.js';
import type { Route } from '../../speakers/bgp/advertiser.js';

/** A stable key for a peer's session settings: a change of any of them means a new session. */
export function peerKey(peer: Peer): string {
  return JSON.stringify([peer.peerAddress, peer.peerPort, peer.myAsn, peer.peerAsn, peer.sourceAddress, peer.routerId, peer.holdTime, peer.password, peer.ebgpMultihop, peer.bfdProfile]);
}

/** The peers this node talks to. */
export function peersForNode(config: Config, nodeLabels: Readonly<Record<string, string>>): Peer[] {
  return config.peers.filter((peer) => peer.nodeSelectors.length === 0 || anySelectorMatches(peer.nodeSelectors, nodeLabels));
}

/** The routes for one peer; the next hop is left empty so the session uses its own address. */
export function routesForPeer(peer: Peer, vips: ReadonlyMap<string, Pool>, nextHops: { readonly ipv4?: string; readonly ipv6?: string } = {}): Route[] {
  const routes = new Map<string, Route>();
  const internal = peer.myAsn === peer.peerAsn;
  for (const [ip, pool] of vips) {
    if (pool.protocol !== 'bgp') continue;
    if (peer.pools.length > 0 && !peer.pools.includes(pool.name)) continue;
    const address = parseAddress(ip);
    if (!address) continue;
    const bits = address.family === 'IPv4' ? 32 : 128;
    for (const ad of pool.bgpAdvertisements) {
      const length = address.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6;
      const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - length)) - 1n);
      const network = formatAddress({ family: address.family, value: address.value & mask });
      const family = address.family === 'IPv4' ? 'ipv4' : 'ipv6';
      const communities = ad.communities.filter((c) => c.kind === 'standard').map((c) => c.value);
      const large = ad.communities.filter((c) => c.kind === 'large').map((c) => [c.global, c.local1, c.local2] as const);
      const route: Route = {
        prefix: { family, address: network, length },
        nextHop: nextHops[family] ?? '',
        ...(communities.length > 0 ? { communities } : {}),
        ...(large.length > 0 ? { largeCommunities: large } : {}),
        ...(internal && ad.localPref !== undefined ? { localPref: ad.localPref } : {}),
      };
      routes.set(`${network}/${length}`, route);
    }
  }
  return [...routes.values()];
}
