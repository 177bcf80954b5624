import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Allocator } from '../../../src/allocator/allocator.js';
import { sharingConflict } from '../../../src/allocator/rules.js';
import type { ServiceRequest } from '../../../src/allocator/types.js';
import { parseAddress, rangeContains } from '../../../src/net/address.js';
import { config, service } from './helpers.js';

// Small pools so that exhaustion, reuse and sharing all happen within a few steps.
const pools = config(`
address-pools:
- name: small
  protocol: layer2
  addresses: [10.0.0.0/30, "fd00::/126"]
- name: ranged
  protocol: layer2
  avoid-buggy-ips: true
  addresses: [10.0.1.254-10.0.2.2]
- name: manual
  protocol: layer2
  auto-assign: false
  addresses: [10.0.9.0/31]
`);
const capacity = 4 + 3; // IPv4 addresses auto-assign can hand out: small /30 + ranged (.254, .1, .2)

const serviceArb = fc.record({
  name: fc.integer({ min: 0, max: 11 }).map((i) => `s${i}`),
  family: fc.constantFrom<'IPv4' | 'IPv6'>('IPv4', 'IPv6'),
  policy: fc.constantFrom<'SingleStack' | 'PreferDualStack' | 'RequireDualStack'>('SingleStack', 'PreferDualStack', 'RequireDualStack'),
  sharingKey: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
  port: fc.constantFrom(80, 443, 53),
  local: fc.boolean(),
  pool: fc.option(fc.constantFrom('small', 'ranged', 'manual', 'missing'), { nil: undefined }),
  requested: fc.option(fc.constantFrom('10.0.0.1', '10.0.2.1', '10.0.9.1', 'fd00::2', '192.0.2.1'), { nil: undefined }),
});

type ServiceSpec = typeof serviceArb extends fc.Arbitrary<infer T> ? T : never;

function build(spec: ServiceSpec): ServiceRequest {
  const families: ('IPv4' | 'IPv6')[] = spec.policy === 'SingleStack' ? [spec.family] : [spec.family, spec.family === 'IPv4' ? 'IPv6' : 'IPv4'];
  const annotations: Record<string, string> = {};
  if (spec.sharingKey) annotations['vipcast.io/allow-shared-ip'] = spec.sharingKey;
  if (spec.pool) annotations['vipcast.io/address-pool'] = spec.pool;
  if (spec.requested) annotations['vipcast.io/loadBalancerIPs'] = spec.requested;
  return service(spec.name, { families, policy: spec.policy, annotations, ports: [{ port: spec.port }], trafficPolicy: spec.local ? 'Local' : 'Cluster', selector: { app: 'x' } });
}

const step = fc.oneof(
  { weight: 3, arbitrary: serviceArb.map((spec) => ({ kind: 'allocate' as const, spec })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 11 }).map((i) => ({ kind: 'release' as const, key: `default/s${i}` })) },
);

/** Checks every invariant over everything the allocator holds now. */
function checkInvariants(allocator: Allocator, requests: Map<string, ServiceRequest>): void {
  const byIp = new Map<string, string[]>();
  for (const key of requests.keys()) {
    const assignment = allocator.assignmentOf(key);
    if (!assignment) continue;
    const pool = pools.pools.find((p) => p.name === assignment.pool);
    expect(pool, `${key} holds addresses of unknown pool ${assignment.pool}`).toBeDefined();
    for (const ip of assignment.ips) {
      const address = parseAddress(ip);
      expect(address && pool?.ranges.some((r) => rangeContains(r, address)), `${ip} of ${key} is outside pool ${assignment.pool}`).toBe(true);
      if (pool?.avoidBuggyIps) expect(ip).not.toMatch(/\.(0|255)$/);
      byIp.set(ip, [...(byIp.get(ip) ?? []), key]);
    }
    expect(new Set(assignment.ips.map((ip) => parseAddress(ip)?.family)).size).toBe(assignment.ips.length);
  }
  for (const [ip, keys] of byIp) {
    for (let i = 0; i < keys.length; i++) {
      for (let j = i + 1; j < keys.length; j++) {
        const a = requests.get(keys[i] ?? '');
        const b = requests.get(keys[j] ?? '');
        expect(a && b && sharingConflict(a, b), `${ip} is held by ${keys[i]} and ${keys[j]}`).toBeUndefined();
      }
    }
  }
}

describe('allocator properties', () => {
  it('never gives an address twice except through a valid sharing key, and only from inside its pool', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const allocator = new Allocator(pools);
        const requests = new Map<string, ServiceRequest>();
        for (const s of steps) {
          if (s.kind === 'allocate') {
            const request = build(s.spec);
            requests.set(request.key, request);
            allocator.allocate(request);
          } else {
            allocator.release(s.key);
            requests.delete(s.key);
          }
          checkInvariants(allocator, requests);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('restoring every assignment into a fresh allocator, then allocating more, never collides', () => {
    fc.assert(
      fc.property(fc.array(serviceArb, { maxLength: 20 }), fc.array(serviceArb, { maxLength: 20 }), (before, after) => {
        const first = new Allocator(pools);
        const requests = new Map<string, ServiceRequest>();
        for (const spec of before) {
          const request = build(spec);
          requests.set(request.key, request);
          first.allocate(request);
        }
        const second = new Allocator(pools);
        for (const [key, request] of requests) {
          const assignment = first.assignmentOf(key);
          if (!assignment) continue;
          expect(second.restore(request, assignment.ips), `restore of ${key}`).toBeUndefined();
        }
        for (const key of requests.keys()) expect(second.assignmentOf(key)).toEqual(first.assignmentOf(key));
        for (const spec of after) {
          const request = build({ ...spec, name: `later-${spec.name}` });
          requests.set(request.key, request);
          second.allocate(request);
          checkInvariants(second, requests);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('leaks nothing: after any sequence and releasing all, the whole pool is free again', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const allocator = new Allocator(pools);
        for (const s of steps) {
          if (s.kind === 'allocate') allocator.allocate(build(s.spec));
          else allocator.release(s.key);
        }
        for (let i = 0; i < 12; i++) allocator.release(`default/s${i}`);
        expect(allocator.serviceCount).toBe(0);
        for (const pool of ['small', 'ranged', 'manual']) expect(allocator.addressesInUse(pool)).toBe(0);
        const got = new Set<string>();
        for (let i = 0; i < capacity; i++) {
          const result = allocator.allocate(service(`fill${i}`));
          expect(result.ok, `allocation ${i} of ${capacity}`).toBe(true);
          if (result.ok) got.add(result.assignment.ips[0] ?? '');
        }
        expect(got.size).toBe(capacity);
        expect(allocator.allocate(service('one-too-many')).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
