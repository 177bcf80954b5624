// MetalLB's custom resources (metallb.io IPAddressPool, L2Advertisement, BGPAdvertisement,
// BGPPeer v1beta2 and v1beta1, BFDProfile, Community) read as a vipcast config, from a file
// (check-config) and from API objects (the programs). The meanings checked are MetalLB's,
// from its API types and its config package (api/v1beta1, api/v1beta2, internal/config of
// metallb/metallb): advertisements select pools by name or label, or every pool when they
// name none; a pool no advertisement selects is allocated but not announced; communities
// name Community aliases or are written out; serviceAllocation.priority orders pools,
// lowest first; a BGPPeer's password may come from a kubernetes.io/basic-auth Secret.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseMetalLbResources } from '../../../src/config/metallb-source.js';
import type { PlainObject } from '../../../src/config/metallb-source.js';
import { parseConfigFile } from '../../../src/config/source.js';
import type { Config, ConfigIssue, Pool } from '../../../src/config/types.js';
import { formatIssue } from '../../../src/config/types.js';
import { routesForPeer } from '../../../src/speaker/bgp-routes.js';
import { Allocator } from '../../../src/allocator/allocator.js';
import { service } from '../allocator/helpers.js';

const ns = 'metallb-system';

/** A multi-document file of objects, each written as `kind name {spec}`. */
function file(...objects: string[]): string {
  return objects.join('\n---\n');
}

function object(kind: string, name: string, spec: string, extra: { apiVersion?: string; labels?: string } = {}): string {
  const apiVersion = extra.apiVersion ?? (kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1');
  const labels = extra.labels === undefined ? '' : `\n  labels: ${extra.labels}`;
  return `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: ${ns}${labels}\nspec:\n${spec.replace(/^/gm, '  ')}`;
}

function valid(text: string): { config: Config; warnings: string[]; notes: readonly string[] } {
  const result = parseConfigFile(text);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map(formatIssue).join('\n')}`);
  return { config: result.config, warnings: result.warnings.map(formatIssue), notes: result.notes };
}

function errorsOf(text: string): ConfigIssue[] {
  const result = parseConfigFile(text);
  if (result.ok) throw new Error('expected errors, the objects were accepted');
  return [...result.errors];
}

/** The one error at a path; fails when there is none or more than one there. */
function errorAt(text: string, path: string): string {
  const errors = errorsOf(text);
  const at = errors.filter((e) => e.path === path);
  expect(at.map((e) => e.message), `errors at ${path} (all: ${errors.map(formatIssue).join(' | ')})`).toHaveLength(1);
  return at[0]?.message ?? '';
}

function pool(config: Config, name: string): Pool {
  const found = config.pools.find((p) => p.name === name);
  if (!found) throw new Error(`no pool ${name} in ${config.pools.map((p) => p.name).join(', ')}`);
  return found;
}

const pools = file(
  object('IPAddressPool', 'east', 'addresses: [192.168.10.0/24, "fc00:f853:ccd:e799::/124"]', { labels: '{zone: east}' }),
  object('IPAddressPool', 'west', 'addresses: [192.168.20.0/24]\navoidBuggyIPs: true', { labels: '{zone: west}' }),
  object('IPAddressPool', 'routed', 'addresses: [10.0.0.0/24]\nautoAssign: false'),
);

describe('MetalLB objects: pools and how they are announced', () => {
  it('a pool selected by an L2Advertisement is layer 2, with its node selectors and interfaces', () => {
    const { config } = valid(file(pools, object('L2Advertisement', 'l2', 'ipAddressPools: [east]\nnodeSelectors:\n- matchLabels: {rack: r1}\ninterfaces: [eth0, eth1]')));
    expect(pool(config, 'east')).toMatchObject({
      protocol: 'layer2',
      nodeSelectors: [{ matchLabels: { rack: 'r1' }, matchExpressions: [] }],
      interfaces: ['eth0', 'eth1'],
      autoAssign: true,
      avoidBuggyIps: false,
    });
    expect(pool(config, 'west')).toMatchObject({ protocol: 'none', avoidBuggyIps: true });
    expect(pool(config, 'routed')).toMatchObject({ protocol: 'none', autoAssign: false });
  });

  it('a pool no advertisement selects is allocated but not announced, with a warning naming it', () => {
    const { config, warnings } = valid(pools);
    expect(config.pools.map((p) => p.protocol)).toEqual(['none', 'none', 'none']);
    expect(warnings).toContain(
      'IPAddressPool/east (line 1): IPAddressPool "east" is selected by no L2Advertisement or BGPAdvertisement: its addresses are handed out but not announced (as in MetalLB)',
    );
  });

  it('an advertisement that names no pool and no selector (or empty lists) selects every pool', () => {
    expect(valid(file(pools, object('L2Advertisement', 'empty', 'ipAddressPools: []\nipAddressPoolSelectors: []'))).config.pools.every((p) => p.protocol === 'layer2')).toBe(true);
    const { config } = valid(file(pools, object('L2Advertisement', 'all', '{}')));
    expect(config.pools.map((p) => [p.name, p.protocol])).toEqual([
      ['east', 'layer2'],
      ['routed', 'layer2'],
      ['west', 'layer2'],
    ]);
  });

  it('ipAddressPoolSelectors select pools by their labels, alongside ipAddressPools names', () => {
    const { config } = valid(file(pools, object('BGPAdvertisement', 'b', 'ipAddressPools: [routed]\nipAddressPoolSelectors:\n- matchExpressions:\n  - {key: zone, operator: In, values: [west]}')));
    expect(pool(config, 'west').protocol).toBe('bgp');
    expect(pool(config, 'routed').protocol).toBe('bgp');
    expect(pool(config, 'east').protocol).toBe('none');
  });

  it('a selector that matches no pool is a warning', () => {
    const { warnings } = valid(file(pools, object('L2Advertisement', 'l2', 'ipAddressPoolSelectors:\n- matchLabels: {zone: north}')));
    expect(warnings.some((w) => w.startsWith('L2Advertisement/l2.spec.ipAddressPoolSelectors') && w.includes('selects no IPAddressPool'))).toBe(true);
  });

  it('L2Advertisements of one pool combine: any without node selectors takes every node; interfaces join when the nodes are the same', () => {
    const same = valid(file(pools, object('L2Advertisement', 'a', 'ipAddressPools: [east]\ninterfaces: [eth0]'), object('L2Advertisement', 'b', 'ipAddressPools: [east]\ninterfaces: [eth1]')));
    expect(pool(same.config, 'east')).toMatchObject({ nodeSelectors: [], interfaces: ['eth0', 'eth1'] });
    const nodes = valid(
      file(
        pools,
        object('L2Advertisement', 'a', 'ipAddressPools: [east]\nnodeSelectors:\n- matchLabels: {rack: r1}'),
        object('L2Advertisement', 'b', 'ipAddressPools: [east]\nnodeSelectors:\n- matchLabels: {rack: r2}'),
      ),
    );
    expect(pool(nodes.config, 'east').nodeSelectors.map((s) => s.matchLabels)).toEqual([{ rack: 'r1' }, { rack: 'r2' }]);
    expect(pool(nodes.config, 'east').interfaces).toEqual([]);
  });

  it('refuses L2Advertisements that give different nodes different interfaces, naming both', () => {
    const message = errorAt(
      file(
        pools,
        object('L2Advertisement', 'a', 'ipAddressPools: [east]\nnodeSelectors:\n- matchLabels: {rack: r1}\ninterfaces: [eth0]'),
        object('L2Advertisement', 'b', 'ipAddressPools: [east]\nnodeSelectors:\n- matchLabels: {rack: r2}\ninterfaces: [eth1]'),
      ),
      'IPAddressPool/east',
    );
    expect(message).toContain('L2Advertisements "a" and "b"');
    expect(message).toContain('differ in both nodeSelectors and interfaces');
  });

  it('refuses a pool announced both ways, naming both advertisements', () => {
    const message = errorAt(file(pools, object('L2Advertisement', 'l2', 'ipAddressPools: [east]'), object('BGPAdvertisement', 'bgp', 'ipAddressPools: [east]')), 'IPAddressPool/east');
    expect(message).toContain('L2Advertisement "l2" and by BGPAdvertisement "bgp"');
  });

  it('orders pools by serviceAllocation priority, lowest first, then those without one (or 0), then by name', () => {
    const { config } = valid(
      file(
        object('IPAddressPool', 'c', 'addresses: [10.3.0.0/24]\nserviceAllocation: {priority: 0}'),
        object('IPAddressPool', 'b', 'addresses: [10.2.0.0/24]\nserviceAllocation: {priority: 20}'),
        object('IPAddressPool', 'a', 'addresses: [10.1.0.0/24]'),
        object('IPAddressPool', 'd', 'addresses: [10.4.0.0/24]\nserviceAllocation: {priority: 10, namespaces: [web], namespaceSelectors: [{matchLabels: {team: a}}], serviceSelectors: [{matchExpressions: [{key: tier, operator: Exists}]}]}'),
      ),
    );
    expect(config.pools.map((p) => p.name)).toEqual(['d', 'b', 'a', 'c']);
    expect(pool(config, 'd')).toMatchObject({
      namespaces: ['web'],
      namespaceSelectors: [{ matchLabels: { team: 'a' }, matchExpressions: [] }],
      serviceSelectors: [{ matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] }],
    });
  });

  it('a pool with a priority alone is reserved for every Service, tried by priority with the namespace pools, before pools without one', () => {
    const { config } = valid(
      file(
        object('IPAddressPool', 'general', 'addresses: [10.1.0.0/24]'),
        object('IPAddressPool', 'team', 'addresses: [10.2.0.0/24]\nserviceAllocation: {priority: 20, namespaces: [team-a]}'),
        object('IPAddressPool', 'preferred', 'addresses: [10.3.0.0/24]\nserviceAllocation: {priority: 10}'),
      ),
    );
    expect(config.pools.map((p) => p.name)).toEqual(['preferred', 'team', 'general']);
    expect(pool(config, 'preferred').serviceSelectors).toEqual([{ matchLabels: {}, matchExpressions: [] }]);
    const allocator = new Allocator(config);
    const inTeam = allocator.allocate(service('a', { namespace: 'team-a' }));
    const elsewhere = allocator.allocate(service('b', { namespace: 'apps' }));
    expect(inTeam.ok && inTeam.assignment.pool).toBe('preferred');
    expect(elsewhere.ok && elsewhere.assignment.pool).toBe('preferred');
  });

  it('refuses addresses shared by two pools, naming both objects', () => {
    const message = errorAt(file(object('IPAddressPool', 'a', 'addresses: [10.1.0.0/24]'), object('IPAddressPool', 'b', 'addresses: [10.1.0.128/25]')), 'IPAddressPool/b.spec.addresses[0]');
    expect(message).toContain('overlaps 10.1.0.0/24 in pool "a"');
  });
});

describe('MetalLB objects: BGP', () => {
  const bgp = file(
    object('IPAddressPool', 'edge', 'addresses: [198.51.100.0/24, "2001:db8:5::/120"]'),
    object('Community', 'aliases', 'communities:\n- {name: vpn-only, value: "1234:1"}\n- {name: big, value: "large:64512:1:2"}'),
    object('BFDProfile', 'fast', 'receiveInterval: 380\ntransmitInterval: 270\ndetectMultiplier: 5\nechoMode: false\npassiveMode: false\nminimumTtl: 254'),
    object('BGPPeer', 'tor-a', 'myASN: 64512\npeerASN: 64512\npeerAddress: 192.0.2.1\nholdTime: 1m30s\nkeepaliveTime: 30s\nrouterID: 10.0.0.9\nbfdProfile: fast\nnodeSelectors:\n- matchLabels: {rack: r1}'),
    object('BGPPeer', 'tor-b', 'myASN: 64512\npeerASN: 64600\npeerAddress: 192.0.2.2\npeerPort: 1179\nsourceAddress: 192.0.2.100\nebgpMultiHop: true'),
    object('BGPAdvertisement', 'local', 'ipAddressPools: [edge]\naggregationLength: 32\nlocalPref: 200\ncommunities: [vpn-only, big, "65535:65282"]\npeers: [tor-a]'),
    object('BGPAdvertisement', 'summary', 'ipAddressPools: [edge]\naggregationLength: 24\naggregationLengthV6: 120\nnodeSelectors:\n- matchLabels: {rack: r1}'),
  );

  it('reads peers, BFD profiles, community aliases and advertisements with MetalLB meaning', () => {
    const { config } = valid(bgp);
    expect(config.bfdProfiles).toEqual([{ name: 'fast', receiveInterval: 380, transmitInterval: 270, detectMultiplier: 5 }]);
    expect(config.peers).toEqual([
      {
        name: 'tor-a', peerAddress: '192.0.2.1', peerAsn: 64512, myAsn: 64512, peerPort: 179, holdTime: 90, keepaliveTime: 30, routerId: '10.0.0.9',
        sourceAddress: undefined, nodeSelectors: [{ matchLabels: { rack: 'r1' }, matchExpressions: [] }], password: undefined, ebgpMultihop: false, bfdProfile: 'fast', pools: [],
      },
      {
        name: 'tor-b', peerAddress: '192.0.2.2', peerAsn: 64600, myAsn: 64512, peerPort: 1179, holdTime: 90, keepaliveTime: 30, routerId: undefined,
        sourceAddress: '192.0.2.100', nodeSelectors: [], password: undefined, ebgpMultihop: true, bfdProfile: undefined, pools: [],
      },
    ]);
    expect(pool(config, 'edge').bgpAdvertisements).toEqual([
      {
        aggregationLength: 32, aggregationLengthV6: 128, localPref: 200, peers: ['tor-a'], nodeSelectors: [],
        communities: [{ kind: 'standard', value: 1234 * 65536 + 1 }, { kind: 'large', global: 64512, local1: 1, local2: 2 }, { kind: 'standard', value: 0xffffff02 }],
      },
      { aggregationLength: 24, aggregationLengthV6: 120, localPref: undefined, communities: [], peers: [], nodeSelectors: [{ matchLabels: { rack: 'r1' }, matchExpressions: [] }] },
    ]);
  });

  it('an advertisement goes only to the peers it names, and only from the nodes it selects', () => {
    const { config } = valid(bgp);
    const edge = pool(config, 'edge');
    const [torA, torB] = config.peers;
    const vips = new Map([['198.51.100.7', edge]]);
    const prefixes = (peer: typeof torA, labels: Record<string, string>): string[] =>
      routesForPeer(peer!, vips, { nodeLabels: labels }).map((r) => `${r.prefix.address}/${r.prefix.length}`).sort();
    expect(prefixes(torA, { rack: 'r1' })).toEqual(['198.51.100.0/24', '198.51.100.7/32']);
    expect(prefixes(torA, { rack: 'r2' })).toEqual(['198.51.100.7/32']);
    expect(prefixes(torB, { rack: 'r1' })).toEqual(['198.51.100.0/24']);
    expect(prefixes(torB, { rack: 'r2' })).toEqual([]);
    const local = routesForPeer(torA!, vips, { nodeLabels: {} })[0];
    expect(local).toMatchObject({ localPref: 200, communities: [1234 * 65536 + 1, 0xffffff02], largeCommunities: [[64512, 1, 2]] });
  });

  it('refuses a community alias or BFD profile that does not exist, naming the field', () => {
    expect(errorAt(file(bgp, object('BGPAdvertisement', 'x', 'ipAddressPools: [edge]\ncommunities: [vpn]')), 'BGPAdvertisement/x.spec.communities[0]')).toContain('community alias "vpn" is not defined in a Community object');
    expect(errorAt(file(bgp, object('BGPPeer', 'x', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\nbfdProfile: slow')), 'BGPPeer/x.spec.bfdProfile')).toContain('BFDProfile "slow" does not exist');
  });

  it('warns of pool and peer names no object has, which MetalLB skips: they select nothing', () => {
    const { config, warnings } = valid(file(bgp, object('BGPAdvertisement', 'x', 'ipAddressPools: [egde]\npeers: [tor-c]')));
    expect(warnings.some((w) => /^BGPAdvertisement\/x\.spec\.ipAddressPools\[0\] \(line \d+\): IPAddressPool "egde" does not exist: this name selects nothing until it does; did you mean "edge"\?$/.test(w))).toBe(true);
    expect(warnings.some((w) => w.startsWith('BGPAdvertisement/x.spec.ipAddressPools (line') && w.includes('selects no IPAddressPool'))).toBe(true);
    expect(pool(config, 'edge').bgpAdvertisements).toHaveLength(2);
    const named = valid(file(bgp, object('BGPAdvertisement', 'y', 'ipAddressPools: [edge]\npeers: [tor-c]')));
    expect(named.warnings.some((w) => w.includes('BGPPeer "tor-c" does not exist: these routes go to no peer of that name'))).toBe(true);
    expect(pool(named.config, 'edge').bgpAdvertisements.some((ad) => ad.peers.join() === 'tor-c')).toBe(true);
    expect(errorAt(file(bgp, object('L2Advertisement', 'z', 'ipAddressPools: [edge, edge]')), 'L2Advertisement/z.spec.ipAddressPools[1]')).toContain('listed twice');
  });

  it('times as MetalLB: a keepalive alone makes the hold time three times it; 0 beside a hold time is the default, with a warning', () => {
    const peerWith = (timers: string): string => file(bgp, object('BGPPeer', 'x', `myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\n${timers}`));
    expect(valid(peerWith('keepaliveTime: 60s')).config.peers.find((p) => p.name === 'x')).toMatchObject({ holdTime: 180, keepaliveTime: 60 });
    expect(valid(peerWith('holdTime: 30s')).config.peers.find((p) => p.name === 'x')).toMatchObject({ holdTime: 30, keepaliveTime: 10 });
    const zero = valid(peerWith('holdTime: 540s\nkeepaliveTime: 0s'));
    expect(zero.config.peers.find((p) => p.name === 'x')).toMatchObject({ holdTime: 540, keepaliveTime: 180 });
    expect(zero.warnings.some((w) => w.startsWith('BGPPeer/x.spec.keepaliveTime') && w.includes('every 180s'))).toBe(true);
    expect(errorAt(peerWith('holdTime: 30s\nkeepaliveTime: 40s'), 'BGPPeer/x.spec.keepaliveTime')).toBe('keepaliveTime 40s is longer than holdTime 30s');
  });

  it('refuses an aggregation wider than the pool, as MetalLB does', () => {
    expect(errorAt(file(bgp, object('BGPAdvertisement', 'x', 'ipAddressPools: [edge]\naggregationLength: 16')), 'BGPAdvertisement/x.spec.aggregationLength')).toContain('shorter than the pool');
  });

  it.each([
    ['vrf: red', 'vrf', 'routing table'],
    ['dynamicASN: external', 'dynamicASN', 'peerASN'],
    ['enableGracefulRestart: true', 'enableGracefulRestart', 'graceful restart'],
    ['disableMP: true', 'disableMP', 'multiprotocol'],
    ['interface: eth0', 'interface', 'unnumbered'],
    ['connectTime: 5s', 'connectTime', 'retries'],
  ])('refuses BGPPeer %s, naming the field', (line, field, reason) => {
    const message = errorAt(file(bgp, object('BGPPeer', 'x', `myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\n${line}`)), `BGPPeer/x.spec.${field}`);
    expect(message).toContain(`${field} is not supported`);
    expect(message).toContain(reason);
  });

  it('accepts those fields at the values that ask for nothing', () => {
    valid(file(bgp, object('BGPPeer', 'x', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\nvrf: ""\nenableGracefulRestart: false\ndisableMP: false')));
  });

  it('reads BGPPeer v1beta1 too, where passwordSecret does not exist', () => {
    const old = object('BGPPeer', 'old', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npassword: hunter2', { apiVersion: 'metallb.io/v1beta1' });
    expect(valid(file(bgp, old)).config.peers.find((p) => p.name === 'old')?.password).toBe('hunter2');
    const secret = object('BGPPeer', 'old', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npasswordSecret: {name: s}', { apiVersion: 'metallb.io/v1beta1' });
    expect(errorAt(file(bgp, secret), 'BGPPeer/old.spec.passwordSecret')).toContain('unknown key "passwordSecret" in a BGPPeer v1beta1 spec');
  });

  const secret = (type: string, data: string): string => `apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: ${ns}}\ntype: ${type}\n${data}`;
  const withSecret = object('BGPPeer', 'x', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npasswordSecret: {name: md5, namespace: metallb-system}');

  it('takes the password from a kubernetes.io/basic-auth Secret in the file, or warns that it is read at run time', () => {
    const inFile = valid(file(bgp, withSecret, secret('kubernetes.io/basic-auth', 'stringData: {password: s3cret}')));
    expect(inFile.config.peers.find((p) => p.name === 'x')?.password).toBe('s3cret');
    const absent = valid(file(bgp, withSecret));
    expect(absent.warnings.some((w) => w.startsWith('BGPPeer/x.spec.passwordSecret.name') && w.includes('Secret "md5" is not in this file'))).toBe(true);
    const elsewhere = object('BGPPeer', 'x', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npasswordSecret: {name: md5, namespace: default}');
    expect(errorAt(file(bgp, elsewhere), 'BGPPeer/x.spec.passwordSecret.namespace')).toContain('the Secret must be in metallb-system');
    expect(errorAt(file(bgp, withSecret, secret('Opaque', 'data: {password: czNjcmV0}')), 'BGPPeer/x.spec.passwordSecret.name')).toContain('must be of type kubernetes.io/basic-auth');
    expect(errorAt(file(bgp, object('BGPPeer', 'x', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npassword: a\npasswordSecret: {name: md5}')), 'BGPPeer/x.spec.passwordSecret')).toBe('write password or passwordSecret, not both');
  });

  it('refuses BFD settings vipcast does not implement, in MetalLB spelling', () => {
    expect(errorAt(file(bgp, object('BFDProfile', 'echo', 'echoMode: true')), 'BFDProfile/echo.spec.echoMode')).toContain('echoMode: true asks for BFD echo packets');
    expect(errorAt(file(bgp, object('BFDProfile', 'mh', 'minimumTtl: 10')), 'BFDProfile/mh.spec.minimumTtl')).toContain('multi-hop');
  });
});

describe('MetalLB objects: the file and the API give one verdict', () => {
  const text = file(
    object('IPAddressPool', 'east', 'addresses: [192.168.10.0/24]'),
    object('L2Advertisement', 'l2', 'ipAddressPools: [east]'),
    object('BGPPeer', 'r', 'myASN: 1\npeerASN: 2\npeerAddress: 192.0.2.9\npasswordSecret: {name: md5}'),
  );
  const secrets = new Map([['md5', { type: 'kubernetes.io/basic-auth', data: { password: Buffer.from('pw').toString('base64') } }]]);

  it('API objects (no lines) give the file config', () => {
    const fromFile = valid(file(text, `apiVersion: v1\nkind: Secret\nmetadata: {name: md5, namespace: ${ns}}\ntype: kubernetes.io/basic-auth\ndata: {password: cHc=}`)).config;
    const objects = parseAllDocuments(text).map((d) => d.toJS() as PlainObject);
    const fromApi = parseMetalLbResources(objects, secrets, ns);
    expect(fromApi.ok && fromApi.config).toEqual(fromFile);
  });

  it('from the API, a missing Secret is an error, not a warning', () => {
    const objects = parseAllDocuments(text).map((d) => d.toJS() as PlainObject);
    const result = parseMetalLbResources(objects, new Map(), ns);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.errors.map(formatIssue)).toEqual(['BGPPeer/r.spec.passwordSecret.name: no Secret "md5" of type kubernetes.io/basic-auth in metallb-system']);
  });

  it('reads a List, as kubectl get -o yaml writes one, with the lines of its items', () => {
    const list = `apiVersion: v1
kind: List
items:
- apiVersion: metallb.io/v1beta1
  kind: IPAddressPool
  metadata: {name: east, namespace: ${ns}}
  spec:
    addresses: [192.168.10.0/24]
- apiVersion: metallb.io/v1beta1
  kind: L2Advertisement
  metadata: {name: l2, namespace: ${ns}}
  spec:
    ipAddressPools: [east]
    interfaces: ["eth 0"]
`;
    expect(errorsOf(list).map(formatIssue)).toEqual(['L2Advertisement/l2.spec.interfaces[0] (line 14): "eth 0" is not a valid interface name (1 to 15 characters, no spaces, "/" or ":")']);
    expect(valid(list.replace('"eth 0"', 'eth0')).config.pools[0]).toMatchObject({ name: 'east', protocol: 'layer2', interfaces: ['eth0'] });
  });

  it('skips other kinds with a note, and refuses objects of several namespaces', () => {
    const { notes } = valid(file(text, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {}', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: y}'));
    expect(notes).toEqual(['skipped 1 ConfigMap object: not a MetalLB config kind', 'skipped 1 Deployment object: not a MetalLB config kind']);
    const two = text.replace('name: east\n  namespace: metallb-system', 'name: east\n  namespace: other');
    expect(errorsOf(two).map(formatIssue)).toEqual([
      '(document): the objects are in 2 namespaces (metallb-system, other); MetalLB and vipcast read one namespace: check each namespace\'s objects in a file of their own',
    ]);
  });

  it('names a wrong apiVersion, a repeated object and an unknown spec key with its line', () => {
    expect(errorAt(object('IPAddressPool', 'a', 'addresses: [10.0.0.0/24]', { apiVersion: 'metallb.io/v1alpha1' }), 'IPAddressPool/a')).toContain('MetalLB serves IPAddressPool as metallb.io/v1beta1');
    const twice = file(object('IPAddressPool', 'a', 'addresses: [10.0.0.0/24]'), object('IPAddressPool', 'a', 'addresses: [10.1.0.0/24]'));
    expect(errorAt(twice, 'IPAddressPool/a')).toBe('IPAddressPool/a appears twice');
    const typo = errorsOf(object('IPAddressPool', 'a', 'addresses: [10.0.0.0/24]\nautoAsign: false'));
    expect(typo.map(formatIssue)).toEqual(['IPAddressPool/a.spec.autoAsign (line 8): unknown key "autoAsign" in an IPAddressPool spec; did you mean "autoAssign"?']);
  });
});
