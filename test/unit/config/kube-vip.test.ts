// kube-vip-cloud-provider's ConfigMap (`kube-system/kubevip`) read as a vipcast config. The
// facts checked here are kube-vip-cloud-provider's, from its README and its code
// (pkg/provider/loadBalancer.go, pkg/ipam, pkg/config of kube-vip/kube-vip-cloud-provider):
// comma-separated CIDRs or first-last ranges, IPv4 and IPv6; per namespace the first key of
// cidr-<ns>, cidr-global, range-<ns>, range-global that exists, and only that one; IPv4
// addresses ending in .0 or .255 never handed out; skip-end-ips-in-cidr, search-order,
// allow-share-<ns>, interface-<ns>.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import type { AllocationResult } from '../../../src/allocator/types.js';
import { describeFailure } from '../../../src/allocator/types.js';
import { namespaceNameLabel, parseKubeVipConfigMap } from '../../../src/config/kube-vip.js';
import { parseConfigFile } from '../../../src/config/source.js';
import { formatRange } from '../../../src/net/address.js';
import type { Config, ConfigIssue, Pool } from '../../../src/config/types.js';
import { formatIssue } from '../../../src/config/types.js';
import { service } from '../allocator/helpers.js';

function valid(data: Record<string, string>): { config: Config; warnings: string[] } {
  const result = parseKubeVipConfigMap(data);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.errors.map(formatIssue).join('\n')}`);
  return { config: result.config, warnings: result.warnings.map(formatIssue) };
}

function errorsOf(data: Record<string, string>): ConfigIssue[] {
  const result = parseKubeVipConfigMap(data);
  if (result.ok) throw new Error('expected errors, the ConfigMap was accepted');
  return [...result.errors];
}

/** The one error at a key; fails when there is none or more than one there. */
function errorAt(data: Record<string, string>, key: string): string {
  const at = errorsOf(data).filter((e) => e.path === `data.${key}`);
  expect(at.map((e) => e.message), `errors at data.${key}`).toHaveLength(1);
  return at[0]?.message ?? '';
}

function pool(config: Config, name: string): Pool {
  const found = config.pools.find((p) => p.name === name);
  if (!found) throw new Error(`no pool ${name} among ${config.pools.map((p) => p.name).join(', ')}`);
  return found;
}

const ranges = (p: Pool): string[] => p.ranges.map(formatRange);

/** A Service in a namespace, with the name label the API server puts on every namespace. */
const inNamespace = (name: string, namespace: string, options: Parameters<typeof service>[1] = {}): ReturnType<typeof service> =>
  service(name, { namespace, namespaceLabels: { [namespaceNameLabel]: namespace }, ...options });

function outcome(result: AllocationResult): string {
  return result.ok ? `${result.assignment.pool} ${result.assignment.ips.join(',')}` : describeFailure(result.failure);
}

describe('address keys', () => {
  it('makes cidr-global a layer-2 pool for every namespace, named after the key', () => {
    const { config, warnings } = valid({ 'cidr-global': '192.168.0.220/29' });
    expect(config.pools).toEqual([
      {
        name: 'cidr-global', protocol: 'layer2', ranges: [{ family: 'IPv4', first: 0xc0a800d8n, last: 0xc0a800dfn }], autoAssign: true,
        avoidBuggyIps: true, bgpAdvertisements: [], namespaces: [], namespaceSelectors: [], serviceSelectors: [], interfaces: [], nodeSelectors: [],
      },
    ]);
    expect(config.peers).toEqual([]);
    expect(warnings).toEqual(['data.cidr-global: "192.168.0.220/29" has host bits set; it means 192.168.0.216/29']);
  });

  it('reads range-global as first-last ranges', () => {
    expect(ranges(pool(valid({ 'range-global': '192.168.0.200-192.168.0.202' }).config, 'range-global'))).toEqual(['192.168.0.200-192.168.0.202']);
  });

  it('reads comma-separated lists, IPv4 and IPv6 in one key (a dual-stack pool)', () => {
    const { config } = valid({ 'cidr-global': '192.168.0.200/30, 2001::10/127', 'range-default': '2001::20-2001::24,192.168.1.10-192.168.1.12' });
    expect(ranges(pool(config, 'cidr-global'))).toEqual(['192.168.0.200/30', '2001::10/127']);
    expect(ranges(pool(config, 'range-default'))).toEqual(['192.168.1.10-192.168.1.12', '2001::20-2001::24']);
  });

  it('merges overlapping entries of one key and sorts them, since kube-vip-cloud-provider hands out the lowest first', () => {
    const { config } = valid({ 'range-global': '192.168.0.50-192.168.0.60,192.168.0.10-192.168.0.11,192.168.0.10-192.168.0.13', 'cidr-dev': '192.168.1.0/30,192.168.1.0/29' });
    expect(ranges(pool(config, 'range-global'))).toEqual(['192.168.0.10-192.168.0.13', '192.168.0.50-192.168.0.60']);
    expect(ranges(pool(config, 'cidr-dev'))).toEqual(['192.168.1.0/29']);
    const allocator = new Allocator(config);
    expect(outcome(allocator.allocate(inNamespace('a', 'web')))).toBe('range-global 192.168.0.10');
  });

  it('takes an IPv6 /64 without enumerating it', () => {
    const { config } = valid({ 'cidr-global': '2001:db8::/64' });
    expect(ranges(pool(config, 'cidr-global'))).toEqual(['2001:db8::/64']);
    expect(outcome(new Allocator(config).allocate(inNamespace('a', 'web', { families: ['IPv6'] })))).toBe('cidr-global 2001:db8::');
  });

  it('reads a key by its text, as kube-vip-cloud-provider does, with a warning when the name says otherwise', () => {
    const { config, warnings } = valid({ 'cidr-global': '192.168.0.1-192.168.0.3' });
    expect(ranges(pool(config, 'cidr-global'))).toEqual(['192.168.0.1-192.168.0.3']);
    expect(warnings).toEqual([expect.stringContaining('data.cidr-global: this cidr- key holds ranges')]);
  });

  it('never hands out IPv4 addresses ending in .0 or .255, like kube-vip-cloud-provider', () => {
    const { config } = valid({ 'range-global': '192.168.0.254-192.168.1.1' });
    const allocator = new Allocator(config);
    const got = ['a', 'b', 'c'].map((name) => outcome(allocator.allocate(inNamespace(name, 'web'))));
    expect(got).toEqual(['range-global 192.168.0.254', 'range-global 192.168.1.1', 'no IPv4 address left in pool "range-global"']);
  });
});

describe('skip-end-ips-in-cidr', () => {
  const withSkip = (cidr: string): string[] => ranges(pool(valid({ 'cidr-global': cidr, 'skip-end-ips-in-cidr': 'true' }).config, 'cidr-global'));

  it('leaves out the first and last address of each IPv4 prefix', () => {
    expect(withSkip('192.168.0.200/30')).toEqual(['192.168.0.201-192.168.0.202']);
  });

  it('keeps /31 and /32 prefixes whole', () => {
    expect(withSkip('192.168.0.200/31,192.168.0.210/32')).toEqual(['192.168.0.200/31', '192.168.0.210/32']);
  });

  it('works on the merged set, not on each entry', () => {
    expect(withSkip('192.168.0.200/30,192.168.0.200/29')).toEqual(['192.168.0.201-192.168.0.206']);
  });

  it('leaves IPv6 prefixes and range- keys alone', () => {
    const { config } = valid({ 'cidr-global': 'fe80::10/127', 'range-dev': '192.168.0.0-192.168.0.3', 'skip-end-ips-in-cidr': 'true' });
    expect(ranges(pool(config, 'cidr-global'))).toEqual(['fe80::10/127']);
    expect(ranges(pool(config, 'range-dev'))).toEqual(['192.168.0.0/30']);
  });

  it('is off unless "true"; anything but true or false is refused', () => {
    expect(ranges(pool(valid({ 'cidr-global': '192.168.0.200/30', 'skip-end-ips-in-cidr': 'false' }).config, 'cidr-global'))).toEqual(['192.168.0.200/30']);
    expect(errorAt({ 'cidr-global': '192.168.0.200/30', 'skip-end-ips-in-cidr': 'yes' }, 'skip-end-ips-in-cidr')).toContain('"yes" is not "true" or "false"');
  });
});

describe('lookup order: cidr-<ns>, cidr-global, range-<ns>, range-global, the first that exists and only that one', () => {
  it('serves a namespace from its own cidr- key and every other namespace from cidr-global', () => {
    const { config } = valid({ 'cidr-global': '10.0.0.0/30', 'cidr-dev': '10.0.1.0/30' });
    const allocator = new Allocator(config);
    expect(outcome(allocator.allocate(inNamespace('a', 'dev')))).toBe('cidr-dev 10.0.1.1');
    expect(outcome(allocator.allocate(inNamespace('b', 'web')))).toBe('cidr-global 10.0.0.1');
    expect(pool(config, 'cidr-global').namespaceSelectors).toEqual([{ matchLabels: {}, matchExpressions: [{ key: namespaceNameLabel, operator: 'NotIn', values: ['dev'] }] }]);
    expect(pool(config, 'cidr-dev').namespaces).toEqual(['dev']);
  });

  it('does not spill a namespace into the global pool when its own is used up', () => {
    const allocator = new Allocator(valid({ 'cidr-global': '10.0.0.0/30', 'cidr-dev': '10.0.1.1/32' }).config);
    expect(outcome(allocator.allocate(inNamespace('a', 'dev')))).toBe('cidr-dev 10.0.1.1');
    expect(outcome(allocator.allocate(inNamespace('b', 'dev')))).toBe('no IPv4 address left in pool "cidr-dev"');
  });

  it('does not give a namespace another family from the global pool when its own lacks it', () => {
    const allocator = new Allocator(valid({ 'cidr-global': 'fd00::/120', 'cidr-dev': '10.0.1.0/30' }).config);
    expect(outcome(allocator.allocate(inNamespace('a', 'dev', { families: ['IPv6'] })))).toBe('no pool offers IPv6 addresses to this Service');
  });

  it('puts cidr-global before range-<ns>: that range is never allocated from, so it keeps auto-assign off, with a warning', () => {
    const { config, warnings } = valid({ 'range-dev': '10.0.2.1-10.0.2.9', 'cidr-global': '10.0.0.0/30' });
    expect(pool(config, 'range-dev')).toMatchObject({ autoAssign: false, namespaces: ['dev'] });
    expect(warnings).toEqual([expect.stringMatching(/^data\.range-dev: kube-vip-cloud-provider never allocates from this key: namespace dev takes addresses from cidr-global first/)]);
    const allocator = new Allocator(config);
    expect(outcome(allocator.allocate(inNamespace('a', 'dev')))).toBe('cidr-global 10.0.0.1');
    expect(outcome(allocator.allocate(inNamespace('b', 'dev', { loadBalancerIP: '10.0.2.5' })))).toBe('range-dev 10.0.2.5');
  });

  it('puts cidr-<ns> before range-<ns>', () => {
    const { config, warnings } = valid({ 'range-dev': '10.0.2.1-10.0.2.9', 'cidr-dev': '10.0.1.0/30' });
    expect(pool(config, 'range-dev').autoAssign).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('namespace dev takes addresses from cidr-dev first')]);
    expect(outcome(new Allocator(config).allocate(inNamespace('a', 'dev')))).toBe('cidr-dev 10.0.1.1');
  });

  it('serves a namespace from its range- key when there is no cidr- key for it nor cidr-global, others from range-global', () => {
    const { config, warnings } = valid({ 'range-global': '10.0.0.1-10.0.0.9', 'range-dev': '10.0.2.1-10.0.2.9', 'cidr-prod': '10.0.3.0/30' });
    expect(warnings).toEqual([]);
    const allocator = new Allocator(config);
    expect(outcome(allocator.allocate(inNamespace('a', 'dev')))).toBe('range-dev 10.0.2.1');
    expect(outcome(allocator.allocate(inNamespace('b', 'prod')))).toBe('cidr-prod 10.0.3.1');
    expect(outcome(allocator.allocate(inNamespace('c', 'web')))).toBe('range-global 10.0.0.1');
    expect(pool(config, 'range-global').namespaceSelectors[0]?.matchExpressions[0]?.values).toEqual(['dev', 'prod']);
  });

  it('puts cidr-global before range-global', () => {
    const { config, warnings } = valid({ 'range-global': '10.0.0.1-10.0.0.9', 'cidr-global': '10.0.1.0/30' });
    expect(pool(config, 'range-global').autoAssign).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('every namespace takes addresses from cidr-global first')]);
    expect(outcome(new Allocator(config).allocate(inNamespace('a', 'web')))).toBe('cidr-global 10.0.1.1');
  });

  it('lists the pools in that order, whatever the order of the keys', () => {
    const { config } = valid({ 'range-global': '10.0.0.1-10.0.0.9', 'range-dev': '10.0.2.1-10.0.2.9', 'cidr-global': '10.0.1.0/30', 'cidr-prod': '10.0.3.0/30' });
    expect(config.pools.map((p) => p.name)).toEqual(['cidr-prod', 'cidr-global', 'range-dev', 'range-global']);
  });

  it('gives a dual-stack Service one address of each family from a mixed key', () => {
    const allocator = new Allocator(valid({ 'range-default': '192.168.0.10-192.168.0.11,2001::10-2001::11' }).config);
    const s = inNamespace('a', 'default', { families: ['IPv6', 'IPv4'], policy: 'PreferDualStack' });
    expect(outcome(allocator.allocate(s))).toBe('range-default 2001::10,192.168.0.10');
  });
});

describe('settings vipcast can or cannot honour', () => {
  it('accepts search-order asc and refuses desc, since vipcast always takes the lowest free address', () => {
    expect(valid({ 'cidr-global': '10.0.0.0/30', 'search-order': 'asc' }).config.pools).toHaveLength(1);
    expect(errorAt({ 'cidr-global': '10.0.0.0/30', 'search-order': 'desc' }, 'search-order')).toContain('cannot search from the top ("desc")');
    expect(errorAt({ 'search-order': 'descending' }, 'search-order')).toContain('"descending" is not "asc" or "desc"');
  });

  it('accepts allow-share false, in Go spellings, and refuses true with what to do instead', () => {
    for (const value of ['false', 'False', '0', 'f']) expect(valid({ 'cidr-global': '10.0.0.0/30', 'allow-share-dev': value }).config.pools).toHaveLength(1);
    for (const value of ['true', 'True', '1', 'T']) {
      expect(errorAt({ 'cidr-global': '10.0.0.0/30', 'allow-share-dev': value }, 'allow-share-dev')).toContain('"vipcast.io/allow-shared-ip" annotation');
    }
    expect(errorAt({ 'allow-share-global': 'true' }, 'allow-share-global')).toContain('between all Services in any namespace');
    expect(errorAt({ 'allow-share-global': 'sometimes' }, 'allow-share-global')).toBe('"sometimes" is not true or false');
  });

  it('announces a namespace pool on its interface-<ns>, else on interface-global', () => {
    const { config } = valid({ 'cidr-global': '10.0.0.0/30', 'cidr-dev': '10.0.1.0/30', 'cidr-prod': '10.0.2.0/30', 'interface-dev': 'eth5', 'interface-global': 'eth3' });
    expect([pool(config, 'cidr-dev'), pool(config, 'cidr-prod'), pool(config, 'cidr-global')].map((p) => p.interfaces)).toEqual([['eth5'], ['eth3'], ['eth3']]);
  });

  it('refuses interface-<ns> for a namespace that shares the global pool, since vipcast sets one interface per pool', () => {
    expect(errorAt({ 'cidr-global': '10.0.0.0/30', 'interface-dev': 'eth5', 'interface-global': 'eth3' }, 'interface-dev')).toContain(
      'namespace dev takes its addresses from cidr-global, which other namespaces share',
    );
    expect(valid({ 'cidr-global': '10.0.0.0/30', 'interface-dev': 'eth3', 'interface-global': 'eth3' }).config.pools[0]?.interfaces).toEqual(['eth3']);
  });

  it('warns of an interface-<ns> that no key gives addresses to', () => {
    expect(valid({ 'cidr-prod': '10.0.0.0/30', 'interface-dev': 'eth5' }).warnings).toEqual(['data.interface-dev: no key gives namespace dev addresses, so this interface is never used']);
  });

  it('warns of an interface-global that no pool uses', () => {
    expect(valid({ 'cidr-prod': '10.0.0.0/30', 'interface-prod': 'eth5', 'interface-global': 'eth3' }).warnings).toEqual([expect.stringMatching(/^data\.interface-global: no pool uses this interface/)]);
    expect(valid({ 'cidr-prod': '10.0.0.0/30', 'interface-global': 'eth3' }).warnings).toEqual([]);
  });

  it('refuses an interface name Linux would not take', () => {
    expect(errorAt({ 'cidr-dev': '10.0.0.0/30', 'interface-dev': 'eth0,eth1' }, 'interface-dev')).toBe('"eth0,eth1" is not an interface name (1 to 15 characters, no spaces, ",", "/" or ":")');
  });
});

describe('bad input: every error names its key and quotes the offending text', () => {
  it.each<[string, Record<string, string>, string, string]>([
    ['a CIDR with a bad prefix length', { 'cidr-global': '10.0.0.0/33' }, 'cidr-global', '"10.0.0.0/33" is not a valid CIDR: the prefix length must be 0 to 32'],
    ['a CIDR that is no address', { 'cidr-dev': '10.0.0/24' }, 'cidr-dev', '"10.0.0/24" is not a valid CIDR: "10.0.0" is not an IP address'],
    ['an empty value', { 'range-global': ' ' }, 'range-global', 'the value is empty: write CIDRs or first-last ranges, separated by commas'],
    ['an empty entry', { 'cidr-global': '10.0.0.0/24,' }, 'cidr-global', 'entry 2 is empty (two commas in a row, or one at an end)'],
    ['a range among CIDRs', { 'cidr-global': '10.0.0.0/24,10.0.1.1-10.0.1.5' }, 'cidr-global', '"10.0.1.1-10.0.1.5" is not a CIDR, but other entries are'],
    ['the DHCP marker', { 'cidr-global': '0.0.0.0/32' }, 'cidr-global', '"0.0.0.0/32" asks kube-vip to get each address by DHCP, which vipcast does not do'],
    ['a single address in a range list', { 'range-global': '10.0.0.5' }, 'range-global', '"10.0.0.5" is a single address; in a list of ranges write it "10.0.0.5-10.0.0.5"'],
    ['a reversed range', { 'range-dev': '10.0.0.9-10.0.0.1' }, 'range-dev', '"10.0.0.9-10.0.0.1" is a reversed range'],
    ['a range across families', { 'range-dev': '10.0.0.1-fd00::1' }, 'range-dev', '"10.0.0.1-fd00::1" mixes IPv4 and IPv6'],
    ['a range end that is no address', { 'range-dev': '10.0.0.1-10.0.0.x' }, 'range-dev', '"10.0.0.1-10.0.0.x" is not a valid range: "10.0.0.x" is not an IP address'],
    ['a key for no valid namespace', { 'cidr-Dev': '10.0.0.0/24' }, 'cidr-Dev', '"Dev" is neither "global" nor a namespace name'],
    ['a key with no namespace', { 'range-': '10.0.0.1-10.0.0.2' }, 'range-', '"" is neither "global" nor a namespace name'],
  ])('%s', (_name, data, key, message) => {
    expect(errorAt(data, key)).toContain(message);
  });

  it('refuses two keys that list the same address, naming both', () => {
    const message = errorAt({ 'cidr-global': '10.0.0.0/24', 'cidr-dev': '10.0.0.16/28' }, 'cidr-dev');
    expect(message).toBe('10.0.0.16/28 overlaps 10.0.0.0/24 of cidr-global: vipcast gives each address to one pool, so two keys cannot list the same address');
  });

  it('reports every error at once, in key order, with the lines it is given', () => {
    const result = parseKubeVipConfigMap({ 'cidr-global': 'x/24', 'range-dev': '1-2', 'search-order': 'desc' }, { lines: new Map([['cidr-global', 7], ['range-dev', 8], ['search-order', 9]]) });
    if (result.ok) throw new Error('expected errors');
    expect(result.errors.map((e) => [e.path, e.line])).toEqual([['data.cidr-global', 7], ['data.range-dev', 8], ['data.search-order', 9]]);
  });
});

describe('unknown keys are refused, never ignored', () => {
  it.each([
    ['cidr_global', 'unknown key "cidr_global"; did you mean "cidr-global"?'],
    ['ranges-dev', 'unknown key "ranges-dev"; did you mean "range-dev"?'],
    ['searchorder', 'unknown key "searchorder"; did you mean "search-order"?'],
    ['allow-shared-dev', 'unknown key "allow-shared-dev": kube-vip-cloud-provider reads "allow-share-dev", not "allow-shared-", so it never read this key either'],
    ['kubevip-services', 'unknown key "kubevip-services" (kube-vip-cloud-provider reads only cidr-, range-, allow-share- and interface- followed by a namespace or "global", search-order and skip-end-ips-in-cidr)'],
  ])('%s', (key, message) => {
    expect(errorAt({ 'cidr-global': '10.0.0.0/24', [key]: 'x' }, key)).toBe(message);
  });
});

describe('a ConfigMap manifest (check-config)', () => {
  const manifest = (name: string, data: string, namespace = 'kube-system'): string =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\ndata:\n${data}`;

  it('recognises kube-vip-cloud-provider\'s ConfigMap by its name', () => {
    const result = parseConfigFile(readFileSync(new URL('../../fixtures/config/kube-vip.yaml', import.meta.url), 'utf8'));
    if (!result.ok) throw new Error(result.errors.map(formatIssue).join('\n'));
    expect(result.resource).toBe('kube-vip-cloud-provider ConfigMap kube-system/kubevip');
    expect(result.notes).toEqual([]);
    expect(result.config.pools.map((p) => [p.name, ranges(p).join(' '), p.interfaces.join(',')])).toEqual([
      ['cidr-default', '192.168.0.201-192.168.0.206', ''],
      ['cidr-development', '192.168.0.209-192.168.0.214', 'eth5'],
      ['range-global', '192.168.1.10-192.168.1.20 2001:db8::10/124', ''],
    ]);
  });

  it('recognises one under another name by its cidr- or range- keys, with a note', () => {
    const result = parseConfigFile(manifest('lb-pools', '  range-global: 10.0.0.1-10.0.0.9\n', 'infra'));
    expect(result.ok).toBe(true);
    expect(result.notes).toEqual(["kube-vip-cloud-provider reads ConfigMap kube-system/kubevip unless told otherwise; this file's is infra/lb-pools"]);
  });

  it("prefers vipcast's ConfigMap when a file holds both", () => {
    const vipcast = manifest('vipcast-config', '  config: |\n    address-pools: []\n', 'vipcast-system');
    expect(parseConfigFile(`${manifest('kubevip', '  cidr-global: 10.0.0.0/24\n')}---\n${vipcast}`).resource).toBe('ConfigMap vipcast-system/vipcast-config');
  });

  it('gives each error the line of its key', () => {
    const result = parseConfigFile(manifest('kubevip', '  cidr-global: 10.0.0.0/24\n  range-dev: 10.0.1.9-10.0.1.1\n'));
    if (result.ok) throw new Error('expected errors');
    expect(result.errors.map(formatIssue)).toEqual(['data.range-dev (line 8): "10.0.1.9-10.0.1.1" is a reversed range (the first address is above the last)']);
  });

  it('refuses an unquoted true, which the API server would refuse too, with the others', () => {
    const result = parseConfigFile(manifest('kubevip', '  allow-share-dev: true\n  search-order: desc\n'));
    if (result.ok) throw new Error('expected errors');
    expect(result.errors.map((e) => [e.path, e.line])).toEqual([['data.allow-share-dev', 7], ['data.search-order', 8]]);
    expect(result.errors[0]?.message).toContain('must be a quoted string');
    expect(result.errors[0]?.message).toContain('(write "true")');
  });
});

describe('the result', () => {
  it('is frozen', () => {
    const { config } = valid({ 'cidr-global': '10.0.0.0/24', 'cidr-dev': '10.0.1.0/24' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.pools[1]?.ranges)).toBe(true);
    expect(Object.isFrozen(config.pools[1]?.namespaceSelectors[0]?.matchExpressions[0]?.values)).toBe(true);
  });

  it('is valid but warns when no key gives addresses', () => {
    expect(valid({}).warnings).toEqual(['(document): no cidr- or range- key: no Service will receive an address']);
  });

  it('never throws, and every issue names a data key, for any mix of keys and values', () => {
    const keys = fc.constantFrom('cidr-global', 'range-global', 'cidr-dev', 'range-dev', 'cidr-Web', 'allow-share-dev', 'interface-dev', 'interface-global', 'search-order', 'skip-end-ips-in-cidr', 'other');
    const values = fc.array(fc.constantFrom('10.0.0.0/24', '10.0.0.5-10.0.0.9', 'fd00::/120', '0.0.0.0/32', 'true', 'desc', 'eth0', '', ' ', '10.0.0.300', '::1-::'), { maxLength: 3 }).map((parts) => parts.join(','));
    fc.assert(
      fc.property(fc.dictionary(keys, values), (data) => {
        const result = parseKubeVipConfigMap(data);
        const errors = result.ok ? [] : result.errors;
        if (!result.ok) expect(errors.length).toBeGreaterThan(0);
        for (const issue of [...errors, ...result.warnings]) {
          expect(issue.message.length).toBeGreaterThan(0);
          expect(issue.path === '' || Object.keys(data).some((key) => issue.path === `data.${key}`)).toBe(true);
        }
        if ('other' in data || 'cidr-Web' in data) expect(result.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
