// The Lease election's pure rules: who may take the Lease, when a holder must let the VIP go,
// and how long the address outlives a dead holder.
import { describe, expect, it } from 'vitest';
import {
  decide,
  leaseRecordFrom,
  mustLetGo,
  nextSpec,
  observe,
  observeKey,
  releasedSpec,
  validateTimings,
  type LeaseRecord,
} from '../../../src/k8s/lease-election.js';
import { addressLifetimeSeconds, defaultControlPlaneTimings as defaultElectionTimings, validateControlPlaneTimings } from '../../../src/control-plane/timings.js';

const held = (holder: string, renewTime = 't1', resourceVersion = '10'): LeaseRecord => ({
  resourceVersion,
  holder,
  durationSeconds: 4,
  renewTime,
  acquireTime: 't0',
  transitions: 2,
});

describe('decide', () => {
  it('creates a Lease that does not exist and renews its own', () => {
    expect(decide(undefined, undefined, 'cp1', 0)).toEqual({ kind: 'create' });
    expect(decide(held('cp1'), undefined, 'cp1', 0)).toEqual({ kind: 'renew' });
  });

  it('takes a released Lease at once', () => {
    expect(decide(held(''), undefined, 'cp1', 0)).toEqual({ kind: 'acquire', from: '' });
  });

  it("waits out another holder's lease duration on its own clock, from when it first saw the record", () => {
    const lease = held('cp2');
    const seen = observe(undefined, lease, 1000);
    expect(decide(lease, seen, 'cp1', 4999)).toEqual({ kind: 'wait', holder: 'cp2', expiresInMs: 1 });
    expect(decide(lease, observe(seen, lease, 5000), 'cp1', 5000)).toEqual({ kind: 'acquire', from: 'cp2' });
  });

  it('restarts the clock whenever the record changes (a renewal)', () => {
    const first = observe(undefined, held('cp2', 't1', '10'), 1000);
    const renewed = held('cp2', 't2', '11');
    const second = observe(first, renewed, 4500);
    expect(second.seenAtMs).toBe(4500);
    expect(decide(renewed, second, 'cp1', 6000).kind).toBe('wait');
  });

  it('never trusts the wall-clock renewTime: a record first seen now counts from now', () => {
    expect(decide(held('cp2', '1999-01-01T00:00:00.000000Z'), undefined, 'cp1', 123)).toMatchObject({ kind: 'wait', expiresInMs: 4000 });
  });
});

describe('holder rules', () => {
  it('lets go once the last successful renewal started a renew deadline ago', () => {
    expect(mustLetGo(1000, 2999, defaultElectionTimings)).toBe(false);
    expect(mustLetGo(1000, 3000, defaultElectionTimings)).toBe(true);
  });

  it('gives the address a lifetime that ends (with the kernel’s ~1 s rounding) before the lease does', () => {
    const seconds = addressLifetimeSeconds(defaultElectionTimings);
    expect(seconds).toBe(2);
    expect(seconds * 1000 + 1000).toBeLessThan(defaultElectionTimings.leaseDurationMs);
  });

  it('counts transitions and keeps acquireTime while renewing', () => {
    expect(nextSpec(held('cp1'), 'cp1', defaultElectionTimings, 'now')).toEqual({
      holderIdentity: 'cp1',
      leaseDurationSeconds: 4,
      acquireTime: 't0',
      renewTime: 'now',
      leaseTransitions: 2,
    });
    expect(nextSpec(held('cp2'), 'cp1', defaultElectionTimings, 'now')).toMatchObject({ acquireTime: 'now', leaseTransitions: 3 });
    expect(nextSpec(undefined, 'cp1', defaultElectionTimings, 'now')).toMatchObject({ leaseTransitions: 0 });
  });
});

describe('validateTimings', () => {
  it('accepts the defaults and refuses orderings that break the guarantees', () => {
    expect(validateTimings(defaultElectionTimings)).toBe(defaultElectionTimings);
    expect(() => validateTimings({ leaseDurationMs: 2000, renewDeadlineMs: 2000, retryPeriodMs: 500 })).toThrow(/shorter than the lease/);
    expect(() => validateTimings({ leaseDurationMs: 4000, renewDeadlineMs: 2000, retryPeriodMs: 2000 })).toThrow(/retry period/);
    expect(() => validateTimings({ leaseDurationMs: 4500, renewDeadlineMs: 2000, retryPeriodMs: 500 })).toThrow(/whole number/);
    // The controller's renew deadline need not be whole seconds; the control-plane VIP's must.
    expect(validateTimings({ leaseDurationMs: 4000, renewDeadlineMs: 1500, retryPeriodMs: 500 }).renewDeadlineMs).toBe(1500);
    expect(() => validateControlPlaneTimings({ leaseDurationMs: 4000, renewDeadlineMs: 1500, retryPeriodMs: 500 })).toThrow('the renew deadline must be a whole number of seconds, at least 1s');
    expect(validateControlPlaneTimings(defaultElectionTimings)).toBe(defaultElectionTimings);
  });
});

describe('observeKey and releasedSpec', () => {
  it('restarts the clock only when the key changes', () => {
    const first = observeKey(undefined, 'rv1', 100);
    expect(observeKey(first, 'rv1', 900)).toBe(first);
    expect(observeKey(first, 'rv2', 900)).toEqual({ key: 'rv2', seenAtMs: 900 });
  });

  it('gives the Lease up with no holder and a one-second duration, keeping its history', () => {
    expect(releasedSpec(held('cp1'), 'now')).toEqual({ holderIdentity: '', leaseDurationSeconds: 1, acquireTime: 't0', renewTime: 'now', leaseTransitions: 2 });
  });
});

describe('leaseRecordFrom', () => {
  it('reads a Lease as the API returns it, with defaults for missing fields', () => {
    const record = leaseRecordFrom({
      metadata: { name: 'vipcast-control-plane', resourceVersion: '42' },
      spec: { holderIdentity: 'cp3', leaseDurationSeconds: 4, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
    expect(record).toEqual({ resourceVersion: '42', holder: 'cp3', durationSeconds: 4, renewTime: '2026-01-01T00:00:00.000000Z', acquireTime: '', transitions: 0 });
    expect(leaseRecordFrom({ kind: 'Status' })).toBeUndefined();
  });
});
