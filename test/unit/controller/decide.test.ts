// The controller's pure decisions: which Services it serves, what it writes, which Events
// it emits, for Service objects shaped as the API server returns them.
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import { decideDeleted, decideService } from '../../../src/controller/decide.js';
import type { ServiceObject } from '../../../src/controller/service-object.js';
import { config } from '../allocator/helpers.js';

const pools = config(`
address-pools:
- name: main
  protocol: layer2
  addresses: [192.0.2.0/30]
`);

function svc(name: string, extra: { spec?: Partial<NonNullable<ServiceObject['spec']>>; ips?: string[]; annotations?: Record<string, string> } = {}): ServiceObject {
  return {
    metadata: { name, namespace: 'apps', uid: `uid-${name}`, annotations: extra.annotations ?? {} },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], ...extra.spec },
    status: extra.ips ? { loadBalancer: { ingress: extra.ips.map((ip) => ({ ip, ipMode: 'VIP' })) } } : {},
  };
}

const decide = (service: ServiceObject, allocator: Allocator | undefined, loadBalancerClass?: string) =>
  decideService({ service, namespaceLabels: {}, loadBalancerClass, allocator });

describe('decideService', () => {
  it('allocates a new Service and announces it with IPAllocated', () => {
    const decision = decide(svc('web'), new Allocator(pools));
    expect(decision.desired).toEqual({ kind: 'set', ips: ['192.0.2.0'], pool: 'main' });
    expect(decision.outcome).toBe('allocated');
    expect(decision.events).toEqual([{ type: 'Normal', reason: 'IPAllocated', action: 'Allocate', note: 'Assigned 192.0.2.0 from pool "main"' }]);
  });

  it('leaves a Service alone when its status and annotation already say what it holds', () => {
    const allocator = new Allocator(pools);
    decide(svc('web'), allocator);
    const decision = decide(svc('web', { ips: ['192.0.2.0'], annotations: { 'vipcast.io/ip-allocated-from-pool': 'main' } }), allocator);
    expect(decision.outcome).toBe('unchanged');
    expect(decision.events).toEqual([]);
  });

  it('never touches a Service of another class, or one that is not a LoadBalancer', () => {
    const allocator = new Allocator(pools);
    expect(decide(svc('foreign', { spec: { loadBalancerClass: 'example.com/lb' } }), allocator)).toMatchObject({ desired: { kind: 'leave' }, outcome: 'ignored' });
    expect(decide(svc('plain', { spec: { type: 'ClusterIP' } }), allocator)).toMatchObject({ desired: { kind: 'leave' }, outcome: 'ignored' });
    expect(allocator.serviceCount).toBe(0);
  });

  it('serves a Service of its own class when configured with one', () => {
    const decision = decide(svc('ours', { spec: { loadBalancerClass: 'vipcast.io/vipcast' } }), new Allocator(pools), 'vipcast.io/vipcast');
    expect(decision.outcome).toBe('allocated');
  });

  it('releases and clears when a served Service changes type', () => {
    const allocator = new Allocator(pools);
    decide(svc('web'), allocator);
    const decision = decide(svc('web', { spec: { type: 'ClusterIP' }, ips: ['192.0.2.0'], annotations: { 'vipcast.io/ip-allocated-from-pool': 'main' } }), allocator);
    expect(decision).toMatchObject({ desired: { kind: 'clear' }, outcome: 'released', freed: true });
    expect(decision.events[0]?.reason).toBe('IPReleased');
  });

  it('reports an exhausted pool with AllocationFailed and writes nothing', () => {
    const allocator = new Allocator(pools);
    for (const name of ['a', 'b', 'c', 'd']) decide(svc(name), allocator);
    const decision = decide(svc('e'), allocator);
    expect(decision).toMatchObject({ desired: { kind: 'leave' }, outcome: 'failed' });
    expect(decision.events[0]).toMatchObject({ type: 'Warning', reason: 'AllocationFailed' });
    expect(decision.events[0]?.note).toContain('no IPv4 address left in pool "main"');
  });

  it('says why an address changed when a config change dropped it', () => {
    const allocator = new Allocator(pools);
    decide(svc('web', { annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.3' } }), allocator);
    const dropped = allocator.setConfig(config('address-pools:\n- name: main\n  protocol: layer2\n  addresses: [192.0.2.0/31]\n'));
    expect(dropped.map((d) => d.key)).toEqual(['apps/web']);
    const decision = decideService({ service: svc('web', { ips: ['192.0.2.3'] }), namespaceLabels: {}, loadBalancerClass: undefined, allocator, droppedBecause: dropped[0]?.reason });
    expect(decision.outcome).toBe('changed');
    expect(decision.events[0]?.note).toBe('Changed from 192.0.2.3 to 192.0.2.0 (pool "main"): 192.0.2.3 is no longer in pool "main"');
  });

  it('keeps the address of a Service whose requested-addresses annotation turns bad, saying which entry is wrong', () => {
    const allocator = new Allocator(pools);
    decide(svc('web'), allocator);
    const decision = decide(svc('web', { ips: ['192.0.2.0'], annotations: { 'kube-vip.io/loadbalancerIPs': '192.0.2.x' } }), allocator);
    expect(decision).toMatchObject({ desired: { kind: 'set', ips: ['192.0.2.0'], pool: 'main' }, outcome: 'failed', freed: false });
    expect(decision.condition).toMatchObject({ status: 'False', reason: 'InvalidRequest' });
    expect(decision.events).toEqual([
      { type: 'Warning', reason: 'AllocationFailed', action: 'Allocate', note: 'Cannot allocate an address: kube-vip.io/loadbalancerIPs: "192.0.2.x" is not an IP address; keeping 192.0.2.0' },
    ]);
  });

  it('waits without writing while no valid config has been seen', () => {
    expect(decide(svc('web'), undefined)).toMatchObject({ desired: { kind: 'leave' }, outcome: 'waiting-for-config' });
  });
});

describe('decideDeleted', () => {
  it('frees the address of a deleted Service and says so', () => {
    const allocator = new Allocator(pools);
    decide(svc('web'), allocator);
    const decision = decideDeleted('apps/web', allocator);
    expect(decision).toMatchObject({ outcome: 'released', freed: true });
    expect(decision.events[0]?.note).toBe('Released 192.0.2.0 (pool "main"): the Service was deleted');
    expect(allocator.serviceCount).toBe(0);
  });
});
