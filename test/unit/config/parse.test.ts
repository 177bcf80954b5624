import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { parseConfigFile } from '../../../src/config/source.js';
import type { Config, ConfigIssue } from '../../../src/config/types.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/config/${name}`, import.meta.url), 'utf8');

function valid(text: string): Config {
  const result = parseConfig(text);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map((e) => `${e.path}: ${e.message}`).join('\n')}`);
  return result.config;
}

function errorsOf(text: string): ConfigIssue[] {
  const result = parseConfig(text);
  if (result.ok) throw new Error('expected errors, the config was accepted');
  return [...result.errors];
}

const pool = (addresses: string, extra = ''): string =>
  `address-pools:\n- name: p\n  protocol: layer2\n  addresses: [${addresses}]\n${extra}`;

describe('valid configs', () => {
  it('accepts MetalLB layer-2 and BGP ConfigMaps unchanged', () => {
    for (const name of ['metallb-layer2.yaml', 'metallb-bgp.yaml']) {
      const result = parseConfigFile(fixture(name));
      expect(result.ok, name).toBe(true);
      expect(result.resource).toBe('ConfigMap metallb-system/config');
      expect(result.notes[0]).toContain('vipcast reads ConfigMap vipcast-system/vipcast-config');
    }
  });

  it('reads every MetalLB key with its meaning', () => {
    const result = parseConfigFile(fixture('metallb-bgp.yaml'));
    if (!result.ok) throw new Error('fixture must be valid');
    const { pools, peers, bfdProfiles } = result.config;
    const [first, second, third] = peers;
    expect(first).toMatchObject({
      peerAddress: '10.0.0.1', peerAsn: 64501, myAsn: 64500, peerPort: 179, holdTime: 120, keepaliveTime: 30,
      routerId: '10.0.0.100', sourceAddress: '10.0.0.2', password: 'yourPassword', bfdProfile: 'full1', ebgpMultihop: false,
    });
    expect(first?.nodeSelectors).toEqual([
      { matchLabels: { rack: 'frontend' }, matchExpressions: [{ key: 'network-speed', operator: 'NotIn', values: ['slow'] }] },
      { matchLabels: {}, matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['hostA', 'hostB'] }] },
    ]);
    expect(second).toMatchObject({ peerPort: 1179, ebgpMultihop: true, holdTime: 90, keepaliveTime: 30 });
    expect(third).toMatchObject({ peerAddress: 'fc00:f853:ccd:e793::3', peerAsn: 64500, myAsn: 64500 });
    expect(bfdProfiles).toEqual([{ name: 'full1', receiveInterval: 179, transmitInterval: 180, detectMultiplier: 3 }]);
    expect(result.warnings.map((w) => w.path)).toEqual(['bfd-profiles[0].echo-interval']);
    const byName = new Map(pools.map((p) => [p.name, p]));
    expect(byName.get('default')?.bgpAdvertisements).toEqual([
      { aggregationLength: 32, aggregationLengthV6: 128, localPref: 100, communities: [{ kind: 'standard', value: 1234 * 65536 + 1 }, { kind: 'standard', value: 0xffffff02 }], peers: [], nodeSelectors: [] },
      { aggregationLength: 24, aggregationLengthV6: 128, localPref: undefined, communities: [], peers: [], nodeSelectors: [] },
    ]);
    expect(byName.get('ranged')?.avoidBuggyIps).toBe(true);
    expect(byName.get('expensive')?.autoAssign).toBe(false);
    expect(byName.get('v6')?.bgpAdvertisements[0]?.communities).toEqual([
      { kind: 'standard', value: 64500 * 65536 + 10 },
      { kind: 'large', global: 64500, local1: 1, local2: 2 },
    ]);
  });

  it("reads vipcast's additions", () => {
    const result = parseConfigFile(fixture('vipcast-full.yaml'));
    if (!result.ok) throw new Error('fixture must be valid');
    expect(result.notes).toEqual([]);
    const [lan, teamA, routed] = result.config.pools;
    expect(lan?.interfaces).toEqual(['eth0', 'bond0.20']);
    expect(lan?.nodeSelectors).toEqual([{ matchLabels: { 'vipcast.io/edge': 'true' }, matchExpressions: [] }]);
    expect(lan?.ranges.map((r) => r.family)).toEqual(['IPv4', 'IPv6']);
    expect(teamA?.namespaces).toEqual(['team-a', 'team-a-staging']);
    expect(teamA?.namespaceSelectors).toEqual([{ matchLabels: { team: 'a' }, matchExpressions: [] }]);
    expect(teamA?.serviceSelectors[0]?.matchExpressions).toEqual([{ key: 'exposure', operator: 'In', values: ['public'] }]);
    expect(routed?.bgpAdvertisements[0]?.communities).toEqual([{ kind: 'standard', value: 0xffffff01 }, { kind: 'large', global: 64500, local1: 100, local2: 1 }]);
    expect(result.config.peers[0]?.pools).toEqual(['routed']);
    expect(result.config.peers[0]?.peerAsn).toBe(4200000001);
  });

  it('gives a bgp pool without bgp-advertisements one host-route advertisement', () => {
    const config = valid('address-pools:\n- name: b\n  protocol: bgp\n  addresses: [10.0.0.0/24]\n');
    expect(config.pools[0]?.bgpAdvertisements).toEqual([{ aggregationLength: 32, aggregationLengthV6: 128, localPref: undefined, communities: [], peers: [], nodeSelectors: [] }]);
  });

  it('accepts an empty config with a warning', () => {
    const result = parseConfig('');
    expect(result.ok).toBe(true);
    expect(result.warnings.map((w) => w.message)).toEqual(['no address pools: no Service will receive an address']);
  });

  it('accepts a CIDR with host bits set, as MetalLB did, and says what it means', () => {
    const result = parseConfig(pool('10.0.0.7/24'));
    expect(result.ok).toBe(true);
    expect(result.warnings[0]).toEqual({ path: 'address-pools[0].addresses[0]', line: 4, message: '"10.0.0.7/24" has host bits set; it means 10.0.0.0/24' });
  });

  it('accepts YAML 1.1 booleans that go-yaml accepted', () => {
    expect(valid(pool('10.0.0.0/24', '  auto-assign: no\n  avoid-buggy-ips: yes\n')).pools[0]).toMatchObject({ autoAssign: false, avoidBuggyIps: true });
  });

  it('returns a frozen config', () => {
    const config = valid(pool('10.0.0.0/24'));
    expect(Object.isFrozen(config.pools[0]?.ranges)).toBe(true);
  });
});

describe('errors name the YAML path, the line and the problem', () => {
  it.each<[string, string, string, number | undefined, string]>([
    ['reversed range', pool('"10.0.0.9-10.0.0.1"'), 'address-pools[0].addresses[0]', 4, '"10.0.0.9-10.0.0.1" is a reversed range'],
    ['mixed-family range', pool('"10.0.0.1-2001:db8::1"'), 'address-pools[0].addresses[0]', 4, 'mixes IPv4 and IPv6'],
    ['bad CIDR address', pool('10.0.0.300/24'), 'address-pools[0].addresses[0]', 4, '"10.0.0.300" is not an IP address'],
    ['bad prefix length', pool('10.0.0.0/33'), 'address-pools[0].addresses[0]', 4, 'the prefix length must be 0 to 32'],
    ['bad IPv6 prefix length', pool('2001:db8::/129'), 'address-pools[0].addresses[0]', 4, 'the prefix length must be 0 to 128'],
    ['bare address', pool('10.0.0.5'), 'address-pools[0].addresses[0]', 4, 'write "10.0.0.5/32" for just this address'],
    ['garbage address', pool('banana'), 'address-pools[0].addresses[0]', 4, 'is not a CIDR (10.0.0.0/24) or a range'],
    ['overlap within a pool', pool('10.0.0.0/24, 10.0.0.128/25'), 'address-pools[0].addresses[1]', 4, '10.0.0.128/25 overlaps 10.0.0.0/24 in this pool (address-pools[0].addresses[0])'],
    [
      'overlap between pools',
      'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: b\n  protocol: layer2\n  addresses:\n  - 10.0.0.100-10.0.1.5\n',
      'address-pools[1].addresses[0]', 8, 'overlaps 10.0.0.0/24 in pool "a" (address-pools[0].addresses[0])',
    ],
    [
      'duplicate pool name',
      'address-pools:\n- name: a\n  protocol: layer2\n  addresses: [10.0.0.0/24]\n- name: a\n  protocol: layer2\n  addresses: [10.0.1.0/24]\n',
      'address-pools[1].name', 5, 'pool name "a" is used twice (also at address-pools[0])',
    ],
    ['unknown protocol', 'address-pools:\n- name: a\n  protocol: layer-2\n  addresses: [10.0.0.0/24]\n', 'address-pools[0].protocol', 3, 'unknown protocol "layer-2" (layer2 or bgp); did you mean "layer2"?'],
    ['missing protocol', 'address-pools:\n- name: a\n  addresses: [10.0.0.0/24]\n', 'address-pools[0]', 2, 'needs a "protocol"'],
    ['missing addresses', 'address-pools:\n- name: a\n  protocol: bgp\n', 'address-pools[0]', 2, 'needs "addresses"'],
    ['unknown pool key', pool('10.0.0.0/24', '  avoid-bugy-ips: true\n'), 'address-pools[0].avoid-bugy-ips', 5, 'unknown key "avoid-bugy-ips" in an address pool; did you mean "avoid-buggy-ips"?'],
    ['camelCase key', pool('10.0.0.0/24', '  autoAssign: false\n'), 'address-pools[0].autoAssign', 5, 'did you mean "auto-assign"?'],
    ['unknown top-level key', 'adress-pools: []\n', 'adress-pools', 1, 'did you mean "address-pools"?'],
    ['unknown key, nothing close', pool('10.0.0.0/24', '  colour: blue\n'), 'address-pools[0].colour', 5, 'unknown key "colour" in an address pool'],
    ['non-boolean', pool('10.0.0.0/24', '  auto-assign: maybe\n'), 'address-pools[0].auto-assign', 5, 'auto-assign must be true or false, not "maybe"'],
    ['addresses not a list', 'address-pools:\n- name: a\n  protocol: layer2\n  addresses: 10.0.0.0/24\n', 'address-pools[0].addresses', 4, 'addresses must be a list'],
    ['layer2 pool with bgp-advertisements', pool('10.0.0.0/24', '  bgp-advertisements:\n  - localpref: 10\n'), 'address-pools[0].bgp-advertisements', 6, 'only for bgp pools'],
    ['bad namespace name', pool('10.0.0.0/24', '  namespaces: [Team_A]\n'), 'address-pools[0].namespaces[0]', 5, '"Team_A" is not a valid namespace name'],
    ['bad interface name', pool('10.0.0.0/24', '  interfaces: ["a very long interface name"]\n'), 'address-pools[0].interfaces[0]', 5, 'is not a valid interface name'],
    ['bad selector operator', pool('10.0.0.0/24', '  service-selectors:\n  - match-expressions:\n    - {key: tier, operator: in, values: [web]}\n'), 'address-pools[0].service-selectors[0].match-expressions[0].operator', 7, 'unknown operator "in" (In, NotIn, Exists, DoesNotExist); did you mean "In"?'],
    ['In without values', pool('10.0.0.0/24', '  service-selectors:\n  - match-expressions:\n    - {key: tier, operator: In}\n'), 'address-pools[0].service-selectors[0].match-expressions[0]', 7, 'operator In needs a non-empty "values" list'],
    ['In with an empty values list', pool('10.0.0.0/24', '  service-selectors:\n  - match-expressions:\n    - {key: tier, operator: In, values: []}\n'), 'address-pools[0].service-selectors[0].match-expressions[0].values', 7, 'operator In needs a non-empty "values" list'],
    ['NotIn with an empty values list', pool('10.0.0.0/24', '  node-selectors:\n  - match-expressions:\n    - key: tier\n      operator: NotIn\n      values: []\n'), 'address-pools[0].node-selectors[0].match-expressions[0].values', 9, 'operator NotIn needs a non-empty "values" list'],
    ['bad label key', pool('10.0.0.0/24', '  node-selectors:\n  - match-labels:\n      "-bad": x\n'), 'address-pools[0].node-selectors[0].match-labels["-bad"]', 7, 'label key "-bad" is invalid'],
  ])('%s', (_name, text, path, line, message) => {
    const errors = errorsOf(text);
    const match = errors.find((e) => e.path === path);
    expect(match, `no error at ${path}; got ${JSON.stringify(errors)}`).toBeDefined();
    expect(match?.line).toBe(line);
    expect(match?.message).toContain(message);
  });

  const bgpPool = (advertisement: string): string =>
    `bgp-communities:\n  mine: 64500:1\naddress-pools:\n- name: b\n  protocol: bgp\n  addresses: [10.0.0.0/24, "2001:db8::/120"]\n  bgp-advertisements:\n  - ${advertisement}\n`;

  it.each<[string, string, string, string]>([
    ['aggregation length above 32', 'aggregation-length: 33', 'address-pools[0].bgp-advertisements[0].aggregation-length', 'aggregation-length 33 is out of range (0 to 32)'],
    ['aggregation length above 128', 'aggregation-length-v6: 129', 'address-pools[0].bgp-advertisements[0].aggregation-length-v6', 'out of range (0 to 128)'],
    ['aggregate wider than the pool', 'aggregation-length: 16', 'address-pools[0].bgp-advertisements[0].aggregation-length', "shorter than the pool's prefix /24"],
    ['IPv6 aggregate wider than the pool', 'aggregation-length-v6: 64', 'address-pools[0].bgp-advertisements[0].aggregation-length-v6', "shorter than the pool's prefix /120"],
    ['community number too big', 'communities: ["64500:70000"]', 'address-pools[0].bgp-advertisements[0].communities[0]', '"64500:70000" is not a community'],
    ['community with three parts', 'communities: ["1:2:3"]', 'address-pools[0].bgp-advertisements[0].communities[0]', '"1:2:3" is not a community'],
    ['large community missing a part', 'communities: ["large:1:2"]', 'address-pools[0].bgp-advertisements[0].communities[0]', 'is not a large community'],
    ['large community part too big', 'communities: ["large:1:2:4294967296"]', 'address-pools[0].bgp-advertisements[0].communities[0]', 'is not a large community'],
    ['undefined alias', 'communities: [mien]', 'address-pools[0].bgp-advertisements[0].communities[0]', 'community alias "mien" is not defined in bgp-communities; did you mean "mine"?'],
    ['localpref negative', 'localpref: -1', 'address-pools[0].bgp-advertisements[0].localpref', 'localpref must be a whole number, not "-1"'],
  ])('%s', (_name, advertisement, path, message) => {
    const errors = errorsOf(bgpPool(advertisement));
    expect(errors.find((e) => e.path === path)?.message, JSON.stringify(errors)).toContain(message);
  });

  it('checks community aliases themselves', () => {
    const errors = errorsOf('bgp-communities:\n  bad: 1:2:3\n');
    expect(errors).toEqual([expect.objectContaining({ path: 'bgp-communities.bad', line: 2 })]);
  });

  const peer = (fields: string): string =>
    `bfd-profiles:\n- name: fast\naddress-pools:\n- {name: b, protocol: bgp, addresses: [10.0.0.0/24]}\n- {name: l, protocol: layer2, addresses: [10.0.1.0/24]}\npeers:\n- peer-address: 10.0.0.1\n  ${fields}\n`;

  it.each<[string, string, string, string]>([
    ['ASN zero', 'peer-asn: 0\n  my-asn: 64500', 'peers[0].peer-asn', 'peer-asn 0 is out of range (1 to 4294967295)'],
    ['ASN too large', 'peer-asn: 4294967296\n  my-asn: 64500', 'peers[0].peer-asn', 'out of range'],
    ['ASN not a number', 'peer-asn: AS64500\n  my-asn: 64500', 'peers[0].peer-asn', 'must be a whole number, not "AS64500"'],
    ['missing my-asn', 'peer-asn: 64500', 'peers[0]', 'a peer needs "my-asn"'],
    ['port zero', 'peer-asn: 1\n  my-asn: 2\n  peer-port: 0', 'peers[0].peer-port', 'peer-port 0 is out of range (1 to 65535)'],
    ['port too large', 'peer-asn: 1\n  my-asn: 2\n  peer-port: 65536', 'peers[0].peer-port', 'out of range'],
    ['hold time below 3 s', 'peer-asn: 1\n  my-asn: 2\n  hold-time: 2s', 'peers[0].hold-time', 'must be 0 or from 3s to 65535s'],
    ['hold time not a duration', 'peer-asn: 1\n  my-asn: 2\n  hold-time: soon', 'peers[0].hold-time', '"soon" is not a duration'],
    ['hold time fractional', 'peer-asn: 1\n  my-asn: 2\n  hold-time: 3500ms', 'peers[0].hold-time', 'not a whole number of seconds'],
    ['keepalive above hold', 'peer-asn: 1\n  my-asn: 2\n  hold-time: 9s\n  keepalive-time: 10s', 'peers[0].keepalive-time', 'keepalive-time 10s is longer than hold-time 9s'],
    ['keepalive 0 with a hold time', 'peer-asn: 1\n  my-asn: 2\n  hold-time: 9s\n  keepalive-time: 0s', 'peers[0].keepalive-time', 'keepalive-time 0s would send no KEEPALIVEs'],
    ['router id IPv6', 'peer-asn: 1\n  my-asn: 2\n  router-id: "2001:db8::1"', 'peers[0].router-id', 'must be an IPv4 address'],
    ['source family differs', 'peer-asn: 1\n  my-asn: 2\n  source-address: "2001:db8::1"', 'peers[0].source-address', 'not of the same family'],
    ['undefined BFD profile', 'peer-asn: 1\n  my-asn: 2\n  bfd-profile: fsat', 'peers[0].bfd-profile', 'bfd-profile "fsat" is not defined in bfd-profiles; did you mean "fast"?'],
    ['multihop on iBGP', 'peer-asn: 1\n  my-asn: 1\n  ebgp-multihop: true', 'peers[0].ebgp-multihop', 'ebgp-multihop is set on an iBGP peer'],
    ['password too long', `peer-asn: 1\n  my-asn: 2\n  password: ${'x'.repeat(81)}`, 'peers[0].password', 'TCP MD5 keys are at most 80'],
    ['unknown pool', 'peer-asn: 1\n  my-asn: 2\n  pools: [c]', 'peers[0].pools[0]', 'pool "c" is not defined in address-pools'],
    ['layer2 pool for a peer', 'peer-asn: 1\n  my-asn: 2\n  pools: [l]', 'peers[0].pools[0]', 'pool "l" is a layer2 pool'],
  ])('%s', (_name, fields, path, message) => {
    const errors = errorsOf(peer(fields));
    expect(errors.find((e) => e.path === path)?.message, JSON.stringify(errors)).toContain(message);
  });

  it('accepts hold time 0 with keepalive 0, and plain seconds', () => {
    const config = valid(peer('peer-asn: 1\n  my-asn: 2\n  hold-time: 0\n  keepalive-time: 0s'));
    expect(config.peers[0]).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    expect(valid(peer('peer-asn: 1\n  my-asn: 2\n  hold-time: 1m30s')).peers[0]?.keepaliveTime).toBe(30);
  });

  it.each<[string, string, string]>([
    ['detect multiplier 1', 'detect-multiplier: 1', 'bfd-profiles[0].detect-multiplier'],
    ['receive interval 5 ms', 'receive-interval: 5', 'bfd-profiles[0].receive-interval'],
    ['minimum TTL 256', 'minimum-ttl: 256', 'bfd-profiles[0].minimum-ttl'],
  ])('BFD profile: %s is out of range', (_name, field, path) => {
    const errors = errorsOf(`bfd-profiles:\n- name: x\n  ${field}\n`);
    expect(errors.find((e) => e.path === path)?.message).toContain('out of range');
  });

  it('reports duplicate BFD profiles and duplicate peers', () => {
    expect(errorsOf('bfd-profiles:\n- name: x\n- name: x\n')[0]?.message).toContain('BFD profile "x" is defined twice');
    const twice = 'peers:\n- {peer-address: 10.0.0.1, peer-asn: 1, my-asn: 2}\n- {peer-address: 10.0.0.1, peer-asn: 3, my-asn: 2}\n';
    expect(errorsOf(twice)).toEqual([expect.objectContaining({ path: 'peers[1]', line: 3, message: expect.stringContaining('duplicate peer') as unknown })]);
  });

  it('reports every error at once, in file order', () => {
    const result = parseConfigFile(fixture('broken.yaml'));
    if (result.ok) throw new Error('expected errors');
    const errors = result.errors;
    expect(errors.map((e) => `${e.path}:${e.line}`)).toEqual([
      'address-pools[0].protocol:12',
      'address-pools[0].addresses[0]:14',
      'address-pools[0].addresses[1]:15',
      'address-pools[1].name:16',
      'address-pools[1].addresses[1]:20',
      'address-pools[1].bgp-advertisements[0].aggregation-length:22',
      'address-pools[1].bgp-advertisements[0].communities[0]:24',
      'peers[0].peer-asn:27',
      'peers[0].hold-time:29',
      'peers[0].bfd-profile:30',
    ]);
  });
});

describe('YAML syntax', () => {
  it('points at the line of a syntax error', () => {
    const errors = errorsOf('address-pools:\n- name: a\n  addresses: [10.0.0.0/24\n  protocol: layer2\n');
    expect(errors[0]?.message).toMatch(/^YAML syntax: /);
    expect(errors[0]?.line).toBeGreaterThanOrEqual(3);
  });

  it('rejects a key written twice', () => {
    const errors = errorsOf('address-pools: []\naddress-pools: []\n');
    expect(errors[0]).toMatchObject({ line: 2, message: expect.stringContaining('"address-pools" appears twice') as unknown });
  });

  it('rejects a config that is not a mapping', () => {
    expect(errorsOf('- a\n- b\n')[0]?.message).toBe('the config must be a mapping of keys to values');
  });
});

describe('robustness', () => {
  it('never throws: any text gives a config or issues', async () => {
    const fc = (await import('fast-check')).default;
    const pieces = ['address-pools:', '- name: a', '  protocol: bgp', '  addresses: [', '10.0.0.0/24', ']', 'peers:', '- peer-address: ::1', '  peer-asn: 7', '{', '}', '"', ': ', '\n', '  ', '&x', '*x', '!!str', '- ', '#'];
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fc.constantFrom(...pieces)).map((p) => p.join(''))), (text) => {
        const result = parseConfig(text);
        if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("MetalLB's first format", () => {
  it('reads top-level protocol, cidr, advertisements and communities, warning about each', () => {
    const result = parseConfigFile(fixture('metallb-0.3-bgp.yaml'));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const [pool] = result.config.pools;
    expect(pool).toMatchObject({ name: 'my-ip-space', protocol: 'bgp', avoidBuggyIps: true });
    expect(pool?.ranges).toHaveLength(2);
    expect(pool?.bgpAdvertisements[0]).toMatchObject({ localPref: 100, communities: [{ kind: 'standard', value: 64512 * 65536 + 1 }, { kind: 'standard', value: 0xffffff01 }] });
    expect(result.config.peers[0]).toMatchObject({ holdTime: 120, keepaliveTime: 40, peerAsn: 64512 });
    expect(result.warnings.map((w) => `${w.path}:${w.line}`)).toEqual([
      'protocol:11',
      'address-pools[0].cidr:20',
      'address-pools[0].advertisements:24',
      'communities:30',
    ]);
    expect(result.warnings[1]?.message).toBe('"cidr" is MetalLB\'s old name for "addresses"; it still works, but write "addresses"');
  });

  it('refuses an old and a new spelling of the same key together', () => {
    const errors = errorsOf(pool('10.0.0.0/24', '  cidr: [10.0.1.0/24]\n'));
    expect(errors).toEqual([expect.objectContaining({ path: 'address-pools[0].cidr', message: '"cidr" is MetalLB\'s old name for "addresses"; write only "addresses"' })]);
  });
});
