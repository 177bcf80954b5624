// The `vipcast.io/AddressAssigned` condition users read with `kubectl get svc -o yaml` or
// `kubectl wait --for=condition=vipcast.io/AddressAssigned`: what it says for each outcome,
// when its lastTransitionTime moves, and that other controllers' conditions stay as they are.
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import { addressAssignedCondition, addressCondition, applyConditionChange, assignedIntent, failedIntent, failureReason } from '../../../src/controller/condition.js';
import { decideService } from '../../../src/controller/decide.js';
import type { ServiceObject } from '../../../src/controller/service-object.js';
import type { ServiceCondition } from '../../../src/k8s/service-status-patch.js';
import { config } from '../allocator/helpers.js';

const monday = new Date('2026-03-02T09:00:00.123Z');
const tuesday = new Date('2026-03-03T10:30:00.999Z');
const foreign: ServiceCondition = { type: 'example.com/FirewallOpen', status: 'True', reason: 'Opened', message: 'port 80 open', lastTransitionTime: '2026-01-01T00:00:00Z' };

const pools = config(`
address-pools:
- name: main
  protocol: layer2
  addresses: [192.0.2.0/31]
- name: reserved
  protocol: layer2
  addresses: [198.51.100.0/31]
  namespaces: [team-a]
`);

function svc(name: string, extra: { annotations?: Record<string, string>; ips?: string[]; generation?: number } = {}): ServiceObject {
  return {
    metadata: { name, namespace: 'apps', uid: `uid-${name}`, generation: extra.generation ?? 1, annotations: extra.annotations ?? {} },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
    status: extra.ips ? { loadBalancer: { ingress: extra.ips.map((ip) => ({ ip, ipMode: 'VIP' })) } } : {},
  };
}

const decide = (service: ServiceObject, allocator: Allocator | undefined) => decideService({ service, namespaceLabels: {}, loadBalancerClass: undefined, allocator });

describe('the AddressAssigned condition', () => {
  it('says True/Assigned with the addresses and pool when a Service is served', () => {
    expect(decide(svc('web'), new Allocator(pools)).condition).toEqual({ status: 'True', reason: 'Assigned', message: '192.0.2.0 from pool "main"' });
  });

  it('gives the reason an address could not be assigned, one CamelCase word per allocator failure', () => {
    const allocator = new Allocator(pools);
    decide(svc('a'), allocator);
    decide(svc('b'), allocator);
    expect(decide(svc('c'), allocator).condition).toMatchObject({ status: 'False', reason: 'PoolExhausted', message: 'no IPv4 address left in pool "main"' });
    expect(decide(svc('d', { annotations: { 'vipcast.io/address-pool': 'nope' } }), allocator).condition).toMatchObject({ reason: 'UnknownPool' });
    expect(decide(svc('e', { annotations: { 'vipcast.io/address-pool': 'reserved' } }), allocator).condition).toMatchObject({ reason: 'PoolNotAllowed' });
    expect(decide(svc('f', { annotations: { 'vipcast.io/loadBalancerIPs': '203.0.113.9' } }), allocator).condition).toMatchObject({ reason: 'RequestedIPNotInPool' });
    expect(decide(svc('g', { annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.0' } }), allocator).condition).toMatchObject({ reason: 'RequestedIPInUse' });
    const sharing = { 'vipcast.io/loadBalancerIPs': '192.0.2.0', 'vipcast.io/allow-shared-ip': 'k' };
    expect(decide(svc('h', { annotations: sharing }), allocator).condition).toMatchObject({ reason: 'SharingConflict' });
    expect(decide(svc('i', { annotations: { 'vipcast.io/loadBalancerIPs': 'not-an-ip' } }), allocator).condition).toMatchObject({ reason: 'InvalidRequest' });
    expect(failureReason({ reason: 'no-pool', families: ['IPv6'] }, false)).toBe('NoMatchingPool');
  });

  it('says ConfigInvalid for a Service without addresses while no valid config exists, and leaves one that has addresses alone', () => {
    expect(decide(svc('new'), undefined).condition).toMatchObject({ status: 'False', reason: 'ConfigInvalid' });
    expect(decide(svc('old', { ips: ['192.0.2.1'] }), undefined).condition).toBeUndefined();
  });

  it('is False when a Service keeps its old address because the one it now asks for is taken', () => {
    const allocator = new Allocator(pools);
    decide(svc('a'), allocator);
    decide(svc('b'), allocator);
    const decision = decide(svc('b', { ips: ['192.0.2.1'], annotations: { 'vipcast.io/loadBalancerIPs': '192.0.2.0' } }), allocator);
    expect(decision.desired).toMatchObject({ kind: 'set', ips: ['192.0.2.1'] });
    expect(decision.condition).toMatchObject({ status: 'False', reason: 'RequestedIPInUse' });
    expect(decision.condition !== undefined && decision.condition !== 'remove' && decision.condition.message).toMatch(/; keeping 192\.0\.2\.1$/);
  });

  it('is removed when a Service stops being served, and never written on another class\'s Service', () => {
    const allocator = new Allocator(pools);
    decide(svc('web'), allocator);
    const plain = { ...svc('web', { ips: ['192.0.2.0'] }), spec: { type: 'ClusterIP' } };
    expect(decide(plain, allocator).condition).toBe('remove');
    const other = { ...svc('other'), spec: { type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' } };
    expect(decide(other, allocator).condition).toBeUndefined();
  });
});

describe('writing the condition into status.conditions', () => {
  it('adds it with observedGeneration and a whole-second lastTransitionTime, after the conditions others own', () => {
    const list = applyConditionChange([foreign], assignedIntent(['192.0.2.0'], 'main'), 4, monday);
    expect(list).toEqual([
      foreign,
      { type: addressAssignedCondition, status: 'True', reason: 'Assigned', message: '192.0.2.0 from pool "main"', lastTransitionTime: '2026-03-02T09:00:00Z', observedGeneration: 4 },
    ]);
  });

  it('needs no write when it already says the same for the same generation', () => {
    const list = applyConditionChange([foreign], assignedIntent(['192.0.2.0'], 'main'), 4, monday);
    expect(applyConditionChange(list, assignedIntent(['192.0.2.0'], 'main'), 4, tuesday)).toBeUndefined();
  });

  it('keeps lastTransitionTime when only the message or generation changes, and moves it when the status flips', () => {
    const first = applyConditionChange([], assignedIntent(['192.0.2.0'], 'main'), 1, monday);
    const moved = applyConditionChange(first, assignedIntent(['192.0.2.1'], 'main'), 2, tuesday);
    expect(addressCondition(moved)).toMatchObject({ message: '192.0.2.1 from pool "main"', observedGeneration: 2, lastTransitionTime: '2026-03-02T09:00:00Z' });
    const failed = applyConditionChange(moved, failedIntent({ reason: 'pool-exhausted', pools: ['main'], families: ['IPv4'] }, false, []), 3, tuesday);
    expect(addressCondition(failed)).toMatchObject({ status: 'False', reason: 'PoolExhausted', lastTransitionTime: '2026-03-03T10:30:00Z' });
  });

  it('replaces its own entry in place and removes only its own entry', () => {
    const ours = applyConditionChange([foreign], assignedIntent(['192.0.2.0'], 'main'), 1, monday) ?? [];
    const after: ServiceCondition = { ...foreign, type: 'example.com/Other' };
    const updated = applyConditionChange([...ours, after], failedIntent({ reason: 'unknown-pool', pool: 'x' }, false, []), 1, tuesday);
    expect(updated?.map((c) => c.type)).toEqual([foreign.type, addressAssignedCondition, 'example.com/Other']);
    expect(applyConditionChange(updated, 'remove', 1, tuesday)).toEqual([foreign, after]);
    expect(applyConditionChange([foreign], 'remove', 1, tuesday)).toBeUndefined();
  });
});
