import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { parsePoolAddress } from '../../../src/config/pool-address.js';
import type { Config } from '../../../src/config/types.js';
import type { LabFamily, LabMode } from '../../../lab/lab-state.js';
import { clientAddresses, labPoolConfig, labRouter } from '../../../lab/lab-topology.js';
import { parseAddress, type AddressRange } from '../../../src/net/address.js';

// The prefixes LabTopology.build routes locally (`ip route add local ... dev lo`) on every node:
// a pool address outside them would reach a node that drops it.
const localPrefixes = ['192.0.2.96/28', '192.0.2.112/28', '198.51.100.0/28', '2001:db8::100/120', '2001:db8:100::/124'];

function cidr(text: string): AddressRange {
  const parsed = parsePoolAddress(text);
  if (!parsed.ok) throw new Error(`bad CIDR in the test: ${parsed.problem}`);
  return parsed.range;
}

const local = localPrefixes.map(cidr);

/** Whether every address of the range lies in one of the local prefixes (prefixes do not overlap). */
function routedLocally(range: AddressRange): boolean {
  let next = range.first;
  while (next <= range.last) {
    const prefix = local.find((p) => p.family === range.family && p.first <= next && next <= p.last);
    if (prefix === undefined) return false;
    next = prefix.last + 1n;
  }
  return true;
}

function valid(text: string): Config {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(`the lab's pool config is invalid:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}\n---\n${text}`);
  expect(result.warnings).toEqual([]);
  return result.config;
}

const families = (config: Config): string[] => [...new Set(config.pools.flatMap((p) => p.ranges.map((r) => r.family)))].sort();
const expectedFamilies: Record<LabFamily, string[]> = { ipv4: ['IPv4'], ipv6: ['IPv6'], dual: ['IPv4', 'IPv6'] };

describe('routedLocally (the test helper itself)', () => {
  it('accepts a range spanning two adjacent local prefixes and rejects one running past them', () => {
    expect(routedLocally(cidr('192.0.2.100/30'))).toBe(true);
    expect(routedLocally({ family: 'IPv4', first: cidr('192.0.2.100/32').first, last: cidr('192.0.2.127/32').first })).toBe(true);
    expect(routedLocally({ family: 'IPv4', first: cidr('192.0.2.100/32').first, last: cidr('192.0.2.128/32').first })).toBe(false);
    expect(routedLocally(cidr('198.51.100.0/27'))).toBe(false);
    expect(routedLocally(cidr('2001:db8::1/128'))).toBe(false);
  });
});

describe('labPoolConfig', () => {
  const cases: [LabMode, LabFamily][] = [
    ['layer2', 'ipv4'],
    ['layer2', 'ipv6'],
    ['layer2', 'dual'],
    ['bgp', 'ipv4'],
    ['bgp', 'ipv6'],
    ['bgp', 'dual'],
  ];

  it.each(cases)('%s/%s is a valid config whose one pool has the right protocol and families', (mode, family) => {
    const config = valid(labPoolConfig(mode, family));
    expect(config.pools.map((p) => [p.name, p.protocol, p.autoAssign])).toEqual([['lab', mode, true]]);
    expect(families(config)).toEqual(expectedFamilies[family]);
  });

  it.each(cases)('%s/%s: every pool address is routed locally on the nodes', (mode, family) => {
    const config = valid(labPoolConfig(mode, family));
    for (const range of config.pools.flatMap((p) => p.ranges)) expect(routedLocally(range), JSON.stringify(range, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).toBe(true);
  });

  it.each(['ipv4', 'ipv6', 'dual'] as const)('layer2/%s has no peers and no BFD profiles', (family) => {
    const config = valid(labPoolConfig('layer2', family));
    expect(config.peers).toEqual([]);
    expect(config.bfdProfiles).toEqual([]);
  });

  it('layer2 offers 16 IPv4 and 16 IPv6 addresses', () => {
    const [pool] = valid(labPoolConfig('layer2', 'dual')).pools;
    expect(pool?.ranges.map((r) => r.last - r.first + 1n)).toEqual([16n, 16n]);
  });

  it.each([
    ['ipv4', [labRouter.ipv4]],
    ['ipv6', [labRouter.ipv6]],
    ['dual', [labRouter.ipv4, labRouter.ipv6]],
  ] as const)('bgp/%s peers with the router over each family, with the fast BFD profile', (family, routers) => {
    const config = valid(labPoolConfig('bgp', family));
    expect(config.peers.map((p) => p.peerAddress)).toEqual(routers);
    for (const peer of config.peers) {
      expect(peer).toMatchObject({ peerAsn: 64512, myAsn: 64513, holdTime: 9, bfdProfile: 'fast', peerPort: 179, ebgpMultihop: false });
    }
    expect(config.bfdProfiles).toHaveLength(1);
    expect(config.bfdProfiles[0]).toMatchObject({ name: 'fast', receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 });
  });

  it('bgp peers with the router the topology builds, AS numbers included', () => {
    expect(labRouter).toEqual({ ipv4: '192.0.2.254', ipv6: '2001:db8::254', asn: 64512, nodeAsn: 64513 });
  });
});

describe('clientAddresses', () => {
  it('puts the client on the switch in layer-2 mode, outside the pools', () => {
    const client = clientAddresses('layer2');
    expect(client).toEqual({ ipv4: '192.0.2.200', ipv6: '2001:db8::200' });
    for (const text of [client.ipv4, client.ipv6]) {
      const address = parseAddress(text);
      expect(address).toBeDefined();
      if (address !== undefined) expect(routedLocally({ family: address.family, first: address.value, last: address.value })).toBe(false);
    }
  });

  it('puts the client behind the router in BGP mode, on another network', () => {
    expect(clientAddresses('bgp')).toEqual({ ipv4: '203.0.113.9', ipv6: '2001:db8:9::9' });
  });
});
