import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import { describeFailure } from '../../../src/allocator/types.js';
import type { AllocationResult } from '../../../src/allocator/types.js';
import { config, service } from './helpers.js';

const twoPools = config(`
address-pools:
- name: a
  protocol: layer2
  addresses: [10.0.0.0/30]
- name: b
  protocol: layer2
  addresses: [10.0.1.0/24, "fd00::/120"]
- name: manual
  protocol: layer2
  auto-assign: false
  addresses: [10.0.9.0/24]
`);

function ips(result: AllocationResult): readonly string[] {
  if (!result.ok) throw new Error(`allocation failed: ${describeFailure(result.failure)}`);
  return result.assignment.ips;
}

function failure(result: AllocationResult): string {
  if (result.ok) throw new Error(`expected a failure, got ${result.assignment.ips.join(', ')}`);
  return describeFailure(result.failure);
}

describe('choosing an address', () => {
  it('hands out the lowest free address of the first auto-assign pool, then spills into the next', () => {
    const allocator = new Allocator(twoPools);
    const got = ['s1', 's2', 's3', 's4', 's5'].map((n) => ips(allocator.allocate(service(n)))[0]);
    expect(got).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.1.0']);
    expect(allocator.assignmentOf('default/s5')?.pool).toBe('b');
  });

  it('reuses the lowest released address first', () => {
    const allocator = new Allocator(twoPools);
    for (const n of ['s1', 's2', 's3']) allocator.allocate(service(n));
    allocator.release('default/s2');
    allocator.release('default/s1');
    expect(ips(allocator.allocate(service('s4')))).toEqual(['10.0.0.0']);
    expect(ips(allocator.allocate(service('s5')))).toEqual(['10.0.0.1']);
  });

  it('keeps an address the Service already holds', () => {
    const allocator = new Allocator(twoPools);
    const first = allocator.allocate(service('s1'));
    const again = allocator.allocate(service('s1'));
    expect(ips(again)).toEqual(ips(first));
    expect(again.ok && again.changed).toBe(false);
  });

  it('never uses a pool with auto-assign off unless asked', () => {
    const allocator = new Allocator(config('address-pools:\n- {name: m, protocol: layer2, auto-assign: false, addresses: [10.0.9.0/24]}\n'));
    expect(failure(allocator.allocate(service('s')))).toBe('no pool offers IPv4 addresses to this Service');
    expect(ips(allocator.allocate(service('t', { annotations: { 'vipcast.io/address-pool': 'm' } })))).toEqual(['10.0.9.0']);
  });

  it('skips .0 and .255 with avoid-buggy-ips', () => {
    const allocator = new Allocator(config('address-pools:\n- {name: p, protocol: layer2, avoid-buggy-ips: true, addresses: [10.0.0.254-10.0.1.1]}\n'));
    expect([ips(allocator.allocate(service('a'))), ips(allocator.allocate(service('b')))]).toEqual([['10.0.0.254'], ['10.0.1.1']]);
    expect(failure(allocator.allocate(service('c')))).toBe('no IPv4 address left in pool "p"');
    expect(failure(allocator.allocate(service('d', { loadBalancerIP: '10.0.1.0' })))).toBe('10.0.1.0 is not in any pool');
  });
});

describe('requested addresses', () => {
  it.each([
    ['vipcast.io/loadBalancerIPs', { annotations: { 'vipcast.io/loadBalancerIPs': '10.0.1.7' } }],
    ['metallb.universe.tf/loadBalancerIPs', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.0.1.7' } }],
    ['metallb.io/loadBalancerIPs', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.1.7' } }],
    ['spec.loadBalancerIP', { loadBalancerIP: '10.0.1.7' }],
  ])('honours %s', (_name, options) => {
    const allocator = new Allocator(twoPools);
    expect(ips(allocator.allocate(service('s', options)))).toEqual(['10.0.1.7']);
  });

  it('prefers vipcast’s annotation over MetalLB’s and over spec.loadBalancerIP', () => {
    const allocator = new Allocator(twoPools);
    const s = service('s', { loadBalancerIP: '10.0.1.9', annotations: { 'metallb.io/loadBalancerIPs': '10.0.1.8', 'vipcast.io/loadBalancerIPs': '10.0.1.7' } });
    expect(ips(allocator.allocate(s))).toEqual(['10.0.1.7']);
  });

  it('gives a requested address from a pool with auto-assign off', () => {
    expect(ips(new Allocator(twoPools).allocate(service('s', { loadBalancerIP: '10.0.9.9' })))).toEqual(['10.0.9.9']);
  });

  it('takes two requested addresses for a dual-stack Service, in ipFamilies order', () => {
    const s = service('s', { families: ['IPv6', 'IPv4'], policy: 'RequireDualStack', annotations: { 'vipcast.io/loadBalancerIPs': '10.0.1.5, fd00::5' } });
    expect(ips(new Allocator(twoPools).allocate(s))).toEqual(['fd00::5', '10.0.1.5']);
  });

  it.each<[string, Parameters<typeof service>[1], string]>([
    ['outside every pool', { loadBalancerIP: '192.0.2.1' }, '192.0.2.1 is not in any pool'],
    ['outside the named pool', { loadBalancerIP: '10.0.1.1', annotations: { 'vipcast.io/address-pool': 'a' } }, '10.0.1.1 is not in pool "a"'],
    ['not an address', { loadBalancerIP: '10.0.1.x' }, 'requested address "10.0.1.x" is not an IP address'],
    ['of the wrong family', { loadBalancerIP: 'fd00::1' }, "requested address fd00::1 is IPv6, but the Service's ipFamilies are IPv4"],
    ['two of one family', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack', annotations: { 'vipcast.io/loadBalancerIPs': '10.0.1.1,10.0.1.2' } }, 'requests two IPv4 addresses'],
    ['in different pools', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack', annotations: { 'vipcast.io/loadBalancerIPs': '10.0.0.1,fd00::1' } }, 'different pools'],
  ])('refuses a request %s', (_name, options, message) => {
    expect(failure(new Allocator(twoPools).allocate(service('s', options)))).toContain(message);
  });

  it('refuses an address another Service holds', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(service('first', { loadBalancerIP: '10.0.1.1' }));
    expect(failure(allocator.allocate(service('second', { loadBalancerIP: '10.0.1.1' })))).toBe(
      '10.0.1.1 is in use by default/first (it is not shared: both Services need the same allow-shared-ip key)',
    );
  });
});

describe('choosing a pool', () => {
  it.each([['vipcast.io/address-pool'], ['metallb.universe.tf/address-pool'], ['metallb.io/address-pool']])('honours %s', (annotation) => {
    expect(ips(new Allocator(twoPools).allocate(service('s', { annotations: { [annotation]: 'b' } })))).toEqual(['10.0.1.0']);
  });

  it('names a pool that does not exist', () => {
    expect(failure(new Allocator(twoPools).allocate(service('s', { annotations: { 'vipcast.io/address-pool': 'nope' } })))).toBe('pool "nope" does not exist');
  });

  const scoped = config(`
address-pools:
- name: general
  protocol: layer2
  addresses: [10.0.0.0/24]
- name: team-a
  protocol: layer2
  addresses: [10.1.0.0/24]
  namespaces: [team-a]
- name: labelled
  protocol: layer2
  addresses: [10.2.0.0/24]
  namespace-selectors: [{match-labels: {tier: gold}}]
- name: public
  protocol: layer2
  addresses: [10.3.0.0/24]
  service-selectors: [{match-expressions: [{key: exposure, operator: In, values: [public]}]}]
`);

  it.each<[string, Parameters<typeof service>[1], string]>([
    ['a listed namespace', { namespace: 'team-a' }, 'team-a'],
    ['a namespace by its labels', { namespace: 'shop', namespaceLabels: { tier: 'gold' } }, 'labelled'],
    ['a Service by its labels', { labels: { exposure: 'public' } }, 'public'],
    ['anyone else', { namespace: 'other' }, 'general'],
  ])('gives %s its reserved pool before general ones', (_name, options, pool) => {
    const result = new Allocator(scoped).allocate(service('s', options));
    expect(result.ok && result.assignment.pool).toBe(pool);
  });

  it('refuses a reserved pool to a Service it does not admit, even when asked by name', () => {
    const s = service('s', { namespace: 'team-b', annotations: { 'vipcast.io/address-pool': 'team-a' } });
    expect(failure(new Allocator(scoped).allocate(s))).toBe(
      'pool "team-a" is not open to this Service: namespace "team-b" is not among the pool\'s namespaces or namespace selectors',
    );
    expect(failure(new Allocator(scoped).allocate(service('t', { namespace: 'team-b', loadBalancerIP: '10.1.0.5' })))).toContain('is not open to this Service');
  });
});

describe('dual-stack', () => {
  it('gives SingleStack one address of the primary family', () => {
    expect(ips(new Allocator(twoPools).allocate(service('s', { families: ['IPv6'] })))).toEqual(['fd00::']);
  });

  it('gives RequireDualStack both families from one pool, primary first', () => {
    const s = service('s', { families: ['IPv6', 'IPv4'], policy: 'RequireDualStack' });
    const result = new Allocator(twoPools).allocate(s);
    expect(ips(result)).toEqual(['fd00::', '10.0.1.0']);
    expect(result.ok && result.assignment.pool).toBe('b');
  });

  it('gives PreferDualStack one family when no pool has both', () => {
    const allocator = new Allocator(config('address-pools:\n- {name: v4, protocol: layer2, addresses: [10.0.0.0/30]}\n'));
    expect(ips(allocator.allocate(service('s', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack' })))).toEqual(['10.0.0.0']);
    expect(failure(allocator.allocate(service('t', { families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' })))).toBe(
      'no pool offers IPv4 and IPv6 addresses to this Service',
    );
  });

  it('fails RequireDualStack without leaking the family it did get', () => {
    const allocator = new Allocator(config('address-pools:\n- {name: d, protocol: layer2, addresses: [10.0.0.0/31, "fd00::/128"]}\n'));
    ips(allocator.allocate(service('v6', { families: ['IPv6'] })));
    const dual = { families: ['IPv4', 'IPv6'] as ('IPv4' | 'IPv6')[], policy: 'RequireDualStack' as const };
    expect(failure(allocator.allocate(service('s', dual)))).toBe('no IPv4/IPv6 address left in pool "d"');
    expect(ips(allocator.allocate(service('v4', {})))).toEqual(['10.0.0.0']);
  });

  it('adds the second family when a kept Service becomes dual-stack, without moving the first', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(service('s', { annotations: { 'vipcast.io/address-pool': 'b' } }));
    const result = allocator.allocate(service('s', { families: ['IPv4', 'IPv6'], policy: 'PreferDualStack', annotations: { 'vipcast.io/address-pool': 'b' } }));
    expect(ips(result)).toEqual(['10.0.1.0', 'fd00::']);
    expect(result.ok && result.changed).toBe(true);
  });
});

describe('sharing an address', () => {
  const shared = (name: string, port: number, extra: Parameters<typeof service>[1] = {}): ReturnType<typeof service> =>
    service(name, { ports: [{ port }], ...extra, annotations: { 'vipcast.io/allow-shared-ip': 'k', ...extra.annotations } });

  it('gives Services with the same key and distinct ports one address', () => {
    const allocator = new Allocator(twoPools);
    const a = ips(allocator.allocate(shared('a', 80)));
    expect(ips(allocator.allocate(shared('b', 443)))).toEqual(a);
    expect(allocator.addressesInUse('a')).toBe(1);
  });

  it('accepts MetalLB’s sharing annotations', () => {
    const allocator = new Allocator(twoPools);
    const a = ips(allocator.allocate(service('a', { ports: [{ port: 80 }], annotations: { 'metallb.universe.tf/allow-shared-ip': 'k' } })));
    expect(ips(allocator.allocate(service('b', { ports: [{ port: 53, protocol: 'UDP' }], annotations: { 'metallb.io/allow-shared-ip': 'k' } })))).toEqual(a);
  });

  it.each<[string, Parameters<typeof service>[1], number]>([
    ['the same port and protocol', {}, 80],
    ['a different key', { annotations: { 'vipcast.io/allow-shared-ip': 'other' } }, 443],
    ['Local and Cluster policies', { trafficPolicy: 'Local' }, 443],
  ])('gives separate addresses for %s', (_name, extra, port) => {
    const allocator = new Allocator(twoPools);
    const a = ips(allocator.allocate(shared('a', 80)));
    expect(ips(allocator.allocate(shared('b', port, extra)))).not.toEqual(a);
  });

  it('shares between Local Services only when they select the same pods', () => {
    const allocator = new Allocator(twoPools);
    const a = ips(allocator.allocate(shared('a', 80, { trafficPolicy: 'Local', selector: { app: 'web' } })));
    expect(ips(allocator.allocate(shared('b', 443, { trafficPolicy: 'Local', selector: { app: 'web' } })))).toEqual(a);
    expect(ips(allocator.allocate(shared('c', 8443, { trafficPolicy: 'Local', selector: { app: 'db' } })))).not.toEqual(a);
  });

  it('frees a shared address only when its last holder goes', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(shared('a', 80));
    allocator.allocate(shared('b', 443));
    allocator.release('default/a');
    expect(ips(allocator.allocate(service('c')))).toEqual(['10.0.0.1']);
    allocator.release('default/b');
    expect(ips(allocator.allocate(service('d')))).toEqual(['10.0.0.0']);
  });

  it('lets a requested address be shared when the rules allow', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(shared('a', 80, { loadBalancerIP: '10.0.1.50' }));
    expect(ips(allocator.allocate(shared('b', 443, { loadBalancerIP: '10.0.1.50' })))).toEqual(['10.0.1.50']);
    expect(failure(allocator.allocate(shared('c', 443, { loadBalancerIP: '10.0.1.50' })))).toContain('both use port 443/TCP');
  });
});

describe('changes to a Service', () => {
  it('moves to a newly requested address and frees the old one', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(service('s'));
    const moved = allocator.allocate(service('s', { loadBalancerIP: '10.0.1.9' }));
    expect(ips(moved)).toEqual(['10.0.1.9']);
    expect(moved.ok && moved.changed).toBe(true);
    expect(ips(allocator.allocate(service('t')))).toEqual(['10.0.0.0']);
  });

  it('keeps its address when a newly requested one cannot be had', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(service('holder', { loadBalancerIP: '10.0.1.9' }));
    const before = ips(allocator.allocate(service('s')));
    expect(failure(allocator.allocate(service('s', { loadBalancerIP: '10.0.1.9' })))).toContain('10.0.1.9 is in use by default/holder');
    expect(allocator.assignmentOf('default/s')?.ips).toEqual(before);
  });
});

describe('restarts and config changes', () => {
  it('rebuilds from existing assignments and never hands them out again', () => {
    const allocator = new Allocator(twoPools);
    expect(allocator.restore(service('old1'), ['10.0.0.1'])).toBeUndefined();
    expect(allocator.restore(service('old2', { families: ['IPv6'] }), ['fd00::7'])).toBeUndefined();
    expect(ips(allocator.allocate(service('old1')))).toEqual(['10.0.0.1']);
    expect([0, 1, 2].map((i) => ips(allocator.allocate(service(`new${i}`)))[0])).toEqual(['10.0.0.0', '10.0.0.2', '10.0.0.3']);
  });

  it('refuses to restore an address held by another Service or outside every pool', () => {
    const allocator = new Allocator(twoPools);
    allocator.restore(service('first'), ['10.0.0.1']);
    expect(allocator.restore(service('second'), ['10.0.0.1'])).toContain('10.0.0.1 is also held by default/first');
    expect(allocator.restore(service('third'), ['192.0.2.1'])).toBe('192.0.2.1 is not in any pool');
  });

  it('re-checks every assignment on a config change and says why one became invalid', () => {
    const allocator = new Allocator(twoPools);
    allocator.allocate(service('in-a'));
    allocator.allocate(service('in-b', { annotations: { 'vipcast.io/address-pool': 'b' } }));
    allocator.allocate(service('in-b-upper', { loadBalancerIP: '10.0.1.200' }));
    allocator.allocate(service('team', { namespace: 'team-x', annotations: { 'vipcast.io/address-pool': 'manual' } }));
    const next = config(`
address-pools:
- name: b
  protocol: layer2
  addresses: [10.0.1.0/25]
- name: manual
  protocol: layer2
  auto-assign: false
  addresses: [10.0.9.0/24]
  namespaces: [team-y]
`);
    const dropped = allocator.setConfig(next);
    expect(dropped.map((d) => [d.key, d.reason]).sort()).toEqual([
      ['default/in-a', 'pool "a" no longer exists'],
      ['default/in-b-upper', '10.0.1.200 is no longer in pool "b"'],
      ['team-x/team', 'pool "manual" is no longer open to this Service: namespace "team-x" is not among the pool\'s namespaces or namespace selectors'],
    ]);
    expect(allocator.assignmentOf('default/in-b')?.ips).toEqual(['10.0.1.0']);
    expect(ips(allocator.allocate(service('in-a')))).toEqual(['10.0.1.1']);
  });
});
