// The cases of MetalLB's legacy (ConfigMap) config tests, TestParse in
// internal/config/config_test.go of metallb/metallb up to v0.12: the same inputs, written
// here in our own words, must get MetalLB's verdict, valid or refused, and a refusal must
// name the right YAML path. Where vipcast's format deliberately differs (it is a superset,
// and it refuses BFD features it does not implement), the case says so.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import type { Config, ConfigIssue } from '../../../src/config/types.js';

function accepted(text: string): Config {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(`expected a valid config, got: ${JSON.stringify(result.errors)}`);
  return result.config;
}

function refusedAt(text: string, path: string): ConfigIssue {
  const result = parseConfig(text);
  if (result.ok) throw new Error('expected the config to be refused');
  const match = result.errors.find((e) => e.path === path);
  if (!match) throw new Error(`no error at ${path}; got ${JSON.stringify(result.errors)}`);
  expect(match.line).toBeGreaterThan(0);
  return match;
}

const peer = (extra = ''): string => `peers:\n- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n${extra}`;
const bgpPool = (extra: string): string => `address-pools:\n- name: pool1\n  protocol: bgp\n${extra}`;
const withPool = `address-pools:\n- name: pool1\n  protocol: bgp\n  addresses: [1.2.3.0/24]\n`;

const allFeatures = `
peers:
- my-asn: 42
  peer-asn: 142
  peer-address: 1.2.3.4
  peer-port: 1179
  hold-time: 180s
  router-id: 10.20.30.40
  source-address: 10.20.30.40
  ebgp-multihop: true
- my-asn: 100
  peer-asn: 200
  peer-address: 2.3.4.5
  node-selectors:
  - match-labels:
      foo: bar
    match-expressions:
      - {key: bar, operator: In, values: [quux]}
bgp-communities:
  bar: 64512:1234
address-pools:
- name: pool1
  protocol: bgp
  addresses:
  - 10.20.0.0/16
  - 10.50.0.0/24
  avoid-buggy-ips: true
  auto-assign: false
  bgp-advertisements:
  - aggregation-length: 32
    localpref: 100
    communities: ["bar", "1234:2345"]
  - aggregation-length: 24
    aggregation-length-v6: 64
- name: pool2
  protocol: bgp
  addresses:
  - 30.0.0.0/8
- name: pool3
  protocol: layer2
  addresses:
  - 40.0.0.0/25
  - 40.0.0.150-40.0.0.200
  - 40.0.0.210 - 40.0.0.240
  - 40.0.0.250 - 40.0.0.250
- name: pool4
  protocol: layer2
  addresses:
  - 2001:db8::/64
`;

describe("MetalLB's accepted configs are accepted", () => {
  it('empty config', () => {
    expect(accepted('')).toMatchObject({ pools: [], peers: [] });
  });

  it('config using all features', () => {
    const config = accepted(allFeatures);
    expect(config.peers).toMatchObject([
      { myAsn: 42, peerAsn: 142, peerAddress: '1.2.3.4', peerPort: 1179, holdTime: 180, keepaliveTime: 60, routerId: '10.20.30.40', sourceAddress: '10.20.30.40', ebgpMultihop: true, nodeSelectors: [] },
      { myAsn: 100, peerAsn: 200, peerPort: 179, holdTime: 90, keepaliveTime: 30, nodeSelectors: [{ matchLabels: { foo: 'bar' }, matchExpressions: [{ key: 'bar', operator: 'In', values: ['quux'] }] }] },
    ]);
    const [pool1, pool2, pool3, pool4] = config.pools;
    expect(pool1).toMatchObject({ protocol: 'bgp', autoAssign: false, avoidBuggyIps: true });
    expect(pool1?.bgpAdvertisements).toEqual([
      { aggregationLength: 32, aggregationLengthV6: 128, localPref: 100, communities: [{ kind: 'standard', value: 0xfc0004d2 }, { kind: 'standard', value: 0x04d20929 }], peers: [], nodeSelectors: [] },
      { aggregationLength: 24, aggregationLengthV6: 64, localPref: undefined, communities: [], peers: [], nodeSelectors: [] },
    ]);
    expect(pool2).toMatchObject({ autoAssign: true, bgpAdvertisements: [{ aggregationLength: 32 }] });
    // MetalLB splits ranges into CIDRs; vipcast keeps each range whole. Same addresses.
    expect(pool3?.ranges).toHaveLength(4);
    expect(pool4?.ranges[0]?.family).toBe('IPv6');
  });

  it('peer-only', () => {
    expect(accepted(peer()).peers).toMatchObject([{ peerPort: 179, holdTime: 90, keepaliveTime: 30, ebgpMultihop: false }]);
  });

  it('empty node selector (select everything)', () => {
    expect(accepted(peer()).peers[0]?.nodeSelectors).toEqual([]);
  });

  it('simple advertisement (an empty entry)', () => {
    expect(accepted(bgpPool('  addresses: ["1.2.3.0/24"]\n  bgp-advertisements:\n  -\n')).pools[0]?.bgpAdvertisements).toEqual([
      { aggregationLength: 32, aggregationLengthV6: 128, localPref: undefined, communities: [], peers: [], nodeSelectors: [] },
    ]);
  });

  it('advertisement with default BGP settings (no entry)', () => {
    expect(accepted(bgpPool('  addresses: ["1.2.3.0/24"]\n')).pools[0]?.bgpAdvertisements).toHaveLength(1);
  });

  it('aggregation length by range', () => {
    // vipcast also warns: a /26 aggregate of 3.3.3.2-3.3.3.254 covers 3.3.3.0, .1 and .255.
    const result = parseConfig(bgpPool('  addresses: [3.3.3.2-3.3.3.254]\n  bgp-advertisements:\n  - aggregation-length: 26\n'));
    expect(result.ok).toBe(true);
    expect(result.warnings).toContainEqual(expect.objectContaining({ path: 'address-pools[0].bgp-advertisements[0].aggregation-length' }));
  });

  it('session with the default BFD profile', () => {
    const config = accepted(`${peer('  bfd-profile: default\n')}${withPool}bfd-profiles:\n- name: default\n`);
    expect(config.peers[0]?.bfdProfile).toBe('default');
    expect(config.bfdProfiles).toEqual([{ name: 'default', transmitInterval: 300, receiveInterval: 300, detectMultiplier: 3 }]);
  });
});

describe("MetalLB's refused configs are refused at the right path", () => {
  it.each<[string, string, string]>([
    ['invalid yaml (a lone scalar)', 'foo:<>$@$2r24j90', ''],
    ['invalid peer-address', peer().replace('1.2.3.4', '1.2.3.400'), 'peers[0].peer-address'],
    ['invalid my-asn (missing)', 'peers:\n- peer-asn: 42\n  peer-address: 1.2.3.4\n', 'peers[0]'],
    ['invalid peer-asn (missing)', 'peers:\n- my-asn: 42\n  peer-address: 1.2.3.4\n', 'peers[0]'],
    ['invalid ebgp-multihop (on an iBGP peer)', peer('  ebgp-multihop: true\n'), 'peers[0].ebgp-multihop'],
    ['invalid hold time (wrong format)', peer('  hold-time: foo\n'), 'peers[0].hold-time'],
    ['invalid hold time (too short)', peer('  hold-time: 1s\n'), 'peers[0].hold-time'],
    ['invalid router ID', peer('  router-id: oh god how do I BGP\n'), 'peers[0].router-id'],
    ['invalid label node selector shape', peer('  node-selectors:\n  - match-labels:\n      foo:\n        bar: baz\n'), 'peers[0].node-selectors[0].match-labels.foo'],
    ['invalid expression node selector (missing key)', peer('  node-selectors:\n  - match-expressions:\n    - operator: In\n      values: [foo, bar]\n'), 'peers[0].node-selectors[0].match-expressions[0]'],
    ['invalid expression node selector (missing operator)', peer('  node-selectors:\n  - match-expressions:\n    - key: foo\n      values: [foo, bar]\n'), 'peers[0].node-selectors[0].match-expressions[0]'],
    ['invalid expression node selector (invalid operator)', peer('  node-selectors:\n  - match-expressions:\n    - key: foo\n      operator: Surrounds\n      values: [foo, bar]\n'), 'peers[0].node-selectors[0].match-expressions[0].operator'],
    ['duplicate peers', `${peer()}- my-asn: 42\n  peer-asn: 42\n  peer-address: 1.2.3.4\n`, 'peers[1]'],
    ['no pool name', 'address-pools:\n-\n', 'address-pools[0]'],
    ['address pool with no addresses', bgpPool(''), 'address-pools[0]'],
    ['address pool with no protocol', 'address-pools:\n- name: pool1\n', 'address-pools[0]'],
    ['address pool with unknown protocol', 'address-pools:\n- name: pool1\n  protocol: babel\n', 'address-pools[0].protocol'],
    ['invalid pool CIDR', 'address-pools:\n- name: pool1\n  addresses:\n  - 100.200.300.400/24\n', 'address-pools[0].addresses[0]'],
    ['invalid pool CIDR prefix length', 'address-pools:\n- name: pool1\n  addresses:\n  - 1.2.3.0/33\n', 'address-pools[0].addresses[0]'],
    ['invalid pool range (first address after the last)', 'address-pools:\n- name: pool1\n  addresses:\n  - 1.2.3.10-1.2.3.1\n', 'address-pools[0].addresses[0]'],
    ['bad aggregation length (too long)', bgpPool('  bgp-advertisements:\n  - aggregation-length: 33\n'), 'address-pools[0].bgp-advertisements[0].aggregation-length'],
    ['bad aggregation length (incompatible with CIDR)', bgpPool('  addresses:\n  - 10.20.30.40/24\n  - 1.2.3.0/28\n  bgp-advertisements:\n  - aggregation-length: 26\n'), 'address-pools[0].bgp-advertisements[0].aggregation-length'],
    ['aggregation length by range, too wide', bgpPool('  addresses: [3.3.3.2-3.3.3.254]\n  bgp-advertisements:\n  - aggregation-length: 24\n'), 'address-pools[0].bgp-advertisements[0].aggregation-length'],
    ['bad community literal (wrong format)', bgpPool('  bgp-advertisements:\n  - communities: ["1234"]\n'), 'address-pools[0].bgp-advertisements[0].communities[0]'],
    ["bad community literal (AS part doesn't fit)", bgpPool('  bgp-advertisements:\n  - communities: ["99999999:1"]\n'), 'address-pools[0].bgp-advertisements[0].communities[0]'],
    ["bad community literal (value part doesn't fit)", bgpPool('  bgp-advertisements:\n  - communities: ["1:99999999"]\n'), 'address-pools[0].bgp-advertisements[0].communities[0]'],
    ['bad community ref (unknown ref)', bgpPool('  bgp-advertisements:\n  - communities: ["flarb"]\n'), 'address-pools[0].bgp-advertisements[0].communities[0]'],
    ["bad community ref (ref AS doesn't fit)", `bgp-communities:\n  flarb: 99999999:1\n${bgpPool('  bgp-advertisements:\n  - communities: ["flarb"]\n')}`, 'bgp-communities.flarb'],
    ["bad community ref (ref value doesn't fit)", `bgp-communities:\n  flarb: 1:99999999\n${bgpPool('  bgp-advertisements:\n  - communities: ["flarb"]\n')}`, 'bgp-communities.flarb'],
    ['duplicate pool definition', 'address-pools:\n- name: pool1\n  protocol: bgp\n- name: pool1\n  protocol: bgp\n- name: pool2\n  protocol: bgp\n', 'address-pools[1].name'],
    ['duplicate CIDRs', 'address-pools:\n- name: pool1\n  protocol: bgp\n  addresses:\n  - 10.0.0.0/8\n- name: pool2\n  protocol: bgp\n  addresses:\n  - 10.0.0.0/8\n', 'address-pools[1].addresses[0]'],
    ['overlapping CIDRs', 'address-pools:\n- name: pool1\n  protocol: bgp\n  addresses:\n  - 10.0.0.0/8\n- name: pool2\n  protocol: bgp\n  addresses:\n  - 10.0.0.0/16\n', 'address-pools[1].addresses[0]'],
    ['BGP advertisements in a layer2 pool', 'address-pools:\n- name: pool1\n  protocol: layer2\n  addresses:\n  - 10.0.0.0/16\n  bgp-advertisements:\n  - communities: ["flarb"]\n', 'address-pools[0].bgp-advertisements'],
    ['peer with a BFD profile that does not exist', `${peer('  bfd-profile: default\n')}${withPool}`, 'peers[0].bfd-profile'],
    ['several BFD profiles with the same name', `${withPool}bfd-profiles:\n- name: default\n- name: foo\n- name: foo\n`, 'bfd-profiles[2].name'],
    ['BFD profile with too low a receive interval', 'bfd-profiles:\n- name: default\n  receive-interval: 2\n', 'bfd-profiles[0].receive-interval'],
    ['BFD profile with too high a receive interval', 'bfd-profiles:\n- name: default\n  receive-interval: 90000\n', 'bfd-profiles[0].receive-interval'],
    ['the same advertisement twice', bgpPool('  addresses: [10.20.0.0/16]\n  bgp-advertisements:\n  - aggregation-length: 26\n  - aggregation-length: 26\n'), 'address-pools[0].bgp-advertisements[1]'],
    ['the same community twice in an advertisement', bgpPool('  addresses: [10.20.0.0/16]\n  bgp-advertisements:\n  - communities: ["1234:2345", "1234:2345"]\n'), 'address-pools[0].bgp-advertisements[0].communities[1]'],
  ])('%s', (_name, text, path) => {
    refusedAt(text, path);
  });
});

describe('where vipcast deliberately differs from MetalLB', () => {
  it('refuses the BFD features it does not implement, which MetalLB passed to FRR', () => {
    // MetalLB accepts this profile ("session with nondefault BFD profile"); vipcast runs
    // single-hop BFD without echo or passive mode, so it refuses rather than ignore them.
    const text = `${withPool}bfd-profiles:\n- name: nondefault\n  receive-interval: 50\n  transmit-interval: 51\n  detect-multiplier: 52\n  echo-interval: 54\n  echo-mode: true\n  passive-mode: true\n  minimum-ttl: 55\n`;
    for (const key of ['echo-mode', 'passive-mode', 'minimum-ttl']) {
      expect(refusedAt(text, `bfd-profiles[0].${key}`).message).toMatch(/vipcast (does not implement|implements single-hop BFD only)/);
    }
  });

  it('counts an advertisement as a repeat by what it announces, not by how it is spelt', () => {
    // MetalLB compared advertisements as written; vipcast compares them with defaults filled
    // in and communities in any order, since those announce exactly the same routes.
    const text = bgpPool('  addresses: [10.20.0.0/16]\n  bgp-advertisements:\n  - communities: [no-export, "1:2"]\n  - aggregation-length: 32\n    communities: ["1:2", "65535:65281"]\n');
    expect(refusedAt(text, 'address-pools[0].bgp-advertisements[1]').message).toBe('this advertisement is listed twice (also at address-pools[0].bgp-advertisements[0])');
  });
});
