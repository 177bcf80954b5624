// Which routes a node sends to which BGP peer: pure. Each BGP VIP becomes, per advertisement
// of its pool, a route for the VIP's prefix rolled up to the aggregation length, with the
// advertisement's communities and (for iBGP) LOCAL_PREF. Peers are those whose node
// selectors match this node; a peer with `pools` gets only those pools' VIPs, and an
// advertisement naming peers or nodes only goes to those peers from those nodes.
import { anySelectorMatches } from '../config/selector.js';
import type { Config, Peer, Pool } from '../config/types.js';
import { formatAddress, parseAddress } from '../net/address.js';
import type { Route } from '../../speakers/bgp/advertiser.js';

/** The peers this node talks to. */
export function peersForNode(config: Config, nodeLabels: Readonly<Record<string, string>>): Peer[] {
  return config.peers.filter((peer) => peer.nodeSelectors.length === 0 || anySelectorMatches(peer.nodeSelectors, nodeLabels));
}

/**
 * The address families a peer's session carries: its own transport's always; the other only
 * when this node has no peer of that family, so a node peering over IPv4 and IPv6 sends each
 * route once, over the session of its own family.
 */
export function familiesForPeer(peer: Peer, nodePeers: readonly Peer[]): ReadonlySet<'ipv4' | 'ipv6'> {
  const familyOf = (p: Peer): 'ipv4' | 'ipv6' => (parseAddress(p.peerAddress)?.family === 'IPv6' ? 'ipv6' : 'ipv4');
  const own = familyOf(peer);
  const other = own === 'ipv4' ? 'ipv6' : 'ipv4';
  return new Set(nodePeers.some((p) => familyOf(p) === other) ? [own] : [own, other]);
}

/** What routesForPeer needs to know about this node and its sessions. */
export interface RouteContext {
  /** This node's labels, against each advertisement's node selectors. */
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** The next hop per family; left empty, the session uses its own address. */
  readonly nextHops?: { readonly ipv4?: string; readonly ipv6?: string } | undefined;
  /** The families this peer's session carries (see familiesForPeer); default both. */
  readonly families?: ReadonlySet<'ipv4' | 'ipv6'>;
}

/**
 * The routes for one peer: of each advertisement that names this peer (or no peer) and
 * whose node selectors take this node (or that has none).
 */
export function routesForPeer(peer: Peer, vips: ReadonlyMap<string, Pool>, context: RouteContext): Route[] {
  const nextHops = context.nextHops ?? {};
  const families = context.families ?? new Set(['ipv4', 'ipv6']);
  const routes = new Map<string, Route>();
  const internal = peer.myAsn === peer.peerAsn;
  for (const [ip, pool] of vips) {
    if (pool.protocol !== 'bgp') continue;
    if (peer.pools.length > 0 && !peer.pools.includes(pool.name)) continue;
    const address = parseAddress(ip);
    if (!address || !families.has(address.family === 'IPv4' ? 'ipv4' : 'ipv6')) continue;
    const bits = address.family === 'IPv4' ? 32 : 128;
    for (const ad of pool.bgpAdvertisements) {
      if (ad.peers.length > 0 && (peer.name === undefined || !ad.peers.includes(peer.name))) continue;
      if (!anySelectorMatches(ad.nodeSelectors, context.nodeLabels)) continue;
      const length = address.family === 'IPv4' ? ad.aggregationLength : ad.aggregationLengthV6;
      const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - length)) - 1n);
      const network = formatAddress({ family: address.family, value: address.value & mask });
      const family = address.family === 'IPv4' ? 'ipv4' : 'ipv6';
      const communities = ad.communities.filter((c) => c.kind === 'standard').map((c) => c.value);
      const large = ad.communities.filter((c) => c.kind === 'large').map((c) => [c.global, c.local1, c.local2] as const);
      const key = `${network}/${length}`;
      const route: Route = {
        prefix: { family, address: network, length },
        nextHop: nextHops[family] ?? '',
        ...(communities.length > 0 ? { communities } : {}),
        ...(large.length > 0 ? { largeCommunities: large } : {}),
        ...(internal && ad.localPref !== undefined ? { localPref: ad.localPref } : {}),
      };
      const earlier = routes.get(key);
      routes.set(key, earlier ? mergeRoutes(earlier, route) : route);
    }
  }
  return [...routes.values()].map(canonical);
}

/**
 * One route for a prefix that several advertisements produce: the union of their communities
 * and large communities (so a `no-export` on any of them is never lost), and the highest
 * LOCAL_PREF among them, whatever the order of the advertisements.
 */
export function mergeRoutes(a: Route, b: Route): Route {
  const communities = [...(a.communities ?? []), ...(b.communities ?? [])];
  const large = [...(a.largeCommunities ?? []), ...(b.largeCommunities ?? [])];
  const prefs = [a.localPref, b.localPref].filter((v): v is number => v !== undefined);
  return {
    prefix: a.prefix,
    nextHop: a.nextHop,
    ...(communities.length > 0 ? { communities } : {}),
    ...(large.length > 0 ? { largeCommunities: large } : {}),
    ...(prefs.length > 0 ? { localPref: Math.max(...prefs) } : {}),
  };
}

/** Communities sorted and without duplicates, so the same config always sends the same UPDATE. */
function canonical(route: Route): Route {
  const communities = route.communities && [...new Set(route.communities)].sort((x, y) => x - y);
  const large = route.largeCommunities && [...new Map(route.largeCommunities.map((c) => [c.join(':'), c] as const)).values()].sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
  return { ...route, ...(communities ? { communities } : {}), ...(large ? { largeCommunities: large } : {}) };
}
