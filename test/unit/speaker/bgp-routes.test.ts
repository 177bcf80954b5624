import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import type { Config, Pool } from '../../../src/config/types.js';
import { familiesForPeer, peersForNode, routesForPeer } from '../../../src/speaker/bgp-routes.js';

function config(): Config {
  const result = parseConfig(`
peers:
- peer-address: 192.0.2.254
  peer-asn: 64512
  my-asn: 64513
- peer-address: 192.0.2.253
  peer-asn: 64513
  my-asn: 64513
  pools: [edge]
  node-selectors:
  - match-labels: {rack: r1}
address-pools:
- name: edge
  protocol: bgp
  addresses: [198.51.100.0/24, 2001:db8:5::/120]
  bgp-advertisements:
  - communities: ["64512:100", "large:64512:1:2"]
    localpref: 200
  - aggregation-length: 24
- name: other
  protocol: bgp
  addresses: [203.0.113.0/28]
`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

describe('BGP routes per peer', () => {
  const c = config();
  const edge = c.pools[0] as Pool;
  const other = c.pools[1] as Pool;
  const vips = new Map<string, Pool>([
    ['198.51.100.7', edge],
    ['198.51.100.9', edge],
    ['2001:db8:5::7', edge],
    ['203.0.113.1', other],
  ]);

  it('matches peers to the node by their node selectors', () => {
    expect(peersForNode(c, {}).map((p) => p.peerAddress)).toEqual(['192.0.2.254']);
    expect(peersForNode(c, { rack: 'r1' }).map((p) => p.peerAddress)).toEqual(['192.0.2.254', '192.0.2.253']);
  });

  it('announces host routes with communities, plus one aggregate per advertisement, and LOCAL_PREF only to iBGP peers', () => {
    const [ebgp, ibgp] = peersForNode(c, { rack: 'r1' });
    const external = routesForPeer(ebgp!, vips, { nodeLabels: {} });
    expect(external.map((r) => `${r.prefix.address}/${r.prefix.length}`)).toEqual(['198.51.100.7/32', '198.51.100.0/24', '198.51.100.9/32', '2001:db8:5::7/128', '203.0.113.1/32']);
    const host = external[0]!;
    expect(host.communities).toEqual([64512 * 65536 + 100]);
    expect(host.largeCommunities).toEqual([[64512, 1, 2]]);
    expect(host.localPref).toBeUndefined();
    expect(host.nextHop).toBe('');
    const internal = routesForPeer(ibgp!, vips, { nodeLabels: {} });
    expect(internal.find((r) => r.prefix.address === '198.51.100.7')?.localPref).toBe(200);
    expect(internal.some((r) => r.prefix.address === '203.0.113.1')).toBe(false); // pools: [edge]
  });
});

describe('two advertisements of one pool that produce the same prefix', () => {
  const parsed = (ads: string): Config => {
    const result = parseConfig(`
peers:
- {peer-address: 192.0.2.253, peer-asn: 64513, my-asn: 64513}
address-pools:
- name: edge
  protocol: bgp
  addresses: [198.51.100.0/24, 2001:db8:5::/120]
  bgp-advertisements:
${ads}
`);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.config;
  };
  const first = `  - {communities: [no-export, "64512:300"], localpref: 100}`;
  const second = `  - {communities: ["64512:7", "64512:300", "large:64512:1:2"], localpref: 300}`;
  const noExport = 0xffffff01;

  it.each([
    ['in config order', `${first}\n${second}`],
    ['in reverse order', `${second}\n${first}`],
  ])('announce one route with every community and the highest LOCAL_PREF, for the /32 and the /128 (%s)', (_, ads) => {
    const c = parsed(ads);
    const pool = c.pools[0] as Pool;
    const routes = routesForPeer(c.peers[0]!, new Map([['198.51.100.7', pool], ['2001:db8:5::7', pool]]), { nodeLabels: {} });
    expect(routes.map((r) => `${r.prefix.address}/${r.prefix.length}`)).toEqual(['198.51.100.7/32', '2001:db8:5::7/128']);
    for (const route of routes) {
      expect(route.communities).toEqual([64512 * 65536 + 7, 64512 * 65536 + 300, noExport]);
      expect(route.largeCommunities).toEqual([[64512, 1, 2]]);
      expect(route.localPref).toBe(300);
    }
  });
});

describe('address families per peer', () => {
  const peers = (addresses: string[]): Config => {
    const result = parseConfig(`
peers:
${addresses.map((a) => `- {peer-address: "${a}", peer-asn: 64512, my-asn: 64513}`).join('\n')}
`);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.config;
  };

  it('a node peering over IPv4 and IPv6 sends each route over the session of its own family only', () => {
    const c = peers(['192.0.2.254', '2001:db8::fe']);
    expect([...familiesForPeer(c.peers[0]!, c.peers)]).toEqual(['ipv4']);
    expect([...familiesForPeer(c.peers[1]!, c.peers)]).toEqual(['ipv6']);
  });

  it('a node with only an IPv4 peer sends its IPv6 routes there too (the session finds an IPv6 next hop)', () => {
    const c = peers(['192.0.2.254']);
    expect([...familiesForPeer(c.peers[0]!, c.peers)].sort()).toEqual(['ipv4', 'ipv6']);
    const pool = config().pools[1]!;
    const only4 = routesForPeer(c.peers[0]!, new Map([['203.0.113.1', pool], ['2001:db8:5::1', pool]]), { nodeLabels: {}, families: new Set(['ipv4']) });
    expect(only4.map((r) => r.prefix.address)).toEqual(['203.0.113.1']);
  });
});
