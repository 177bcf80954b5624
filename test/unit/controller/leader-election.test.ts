// The Lease elector without an API server: a fake LeaseClient with the API's optimistic
// concurrency (resourceVersion, 409) and fake clocks, so expiry is judged by each
// candidate's own monotonic clock, never by the wall clock written in the Lease.
import { describe, expect, it } from 'vitest';
import { LeaderElector } from '../../../src/k8s/leader-election.js';
import { LeaseConflict, type Lease, type LeaseClient, type LeaseSpec } from '../../../src/k8s/lease-client.js';

/** One Lease in memory, with a resourceVersion bumped on every write. */
class MemoryLease implements LeaseClient {
  lease: Lease | undefined;
  private version = 0;

  get(): Promise<Lease | undefined> {
    return Promise.resolve(this.lease && structuredClone(this.lease));
  }

  create(spec: LeaseSpec): Promise<Lease> {
    if (this.lease) return Promise.reject(new LeaseConflict('exists'));
    return Promise.resolve(this.store(spec));
  }

  replace(resourceVersion: string, spec: LeaseSpec): Promise<Lease> {
    if (this.lease?.metadata.resourceVersion !== resourceVersion) return Promise.reject(new LeaseConflict('changed'));
    return Promise.resolve(this.store(spec));
  }

  private store(spec: LeaseSpec): Lease {
    this.lease = { metadata: { name: 'l', namespace: 'n', resourceVersion: String(++this.version) }, spec: { ...spec } };
    return structuredClone(this.lease);
  }
}

function candidate(client: LeaseClient, identity: string, clock: { now: number }, wall: Date = new Date('2026-01-01T00:00:00Z')): { elector: LeaderElector; events: string[] } {
  const events: string[] = [];
  const elector = new LeaderElector(client, {
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: (why) => events.push(`stopped: ${why}`),
    monotonicNow: () => clock.now,
    wallNow: () => wall,
  });
  return { elector, events };
}

describe('LeaderElector', () => {
  it('creates the Lease when none exists, and a second candidate then waits', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    const b = candidate(lease, 'b', clock);
    expect(await a.elector.tryAcquireOrRenew()).toBe(true);
    expect(lease.lease?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    expect(lease.lease?.spec.renewTime).toMatch(/^2026-01-01T00:00:00\.000000Z$/);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    expect(lease.lease?.spec.holderIdentity).toBe('a');
  });

  it('takes over only after the record stayed unchanged for a lease duration on its own clock, whatever the wall clocks say', async () => {
    const lease = new MemoryLease();
    const clock = { now: 1_000 };
    // The holder's wall clock is a year behind: a standby comparing renewTime with its own
    // wall clock would take over at once. It must not.
    await candidate(lease, 'a', clock, new Date('2025-01-01T00:00:00Z')).elector.tryAcquireOrRenew();
    const b = candidate(lease, 'b', clock);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    clock.now += 14_999;
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    clock.now += 1;
    expect(await b.elector.tryAcquireOrRenew()).toBe(true);
    expect(lease.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('restarts its expiry clock whenever the holder renews', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    const b = candidate(lease, 'b', clock);
    await a.elector.tryAcquireOrRenew();
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    for (let i = 0; i < 10; i++) {
      clock.now += 10_000;
      expect(await a.elector.tryAcquireOrRenew()).toBe(true);
      expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    }
  });

  it('loses a race for the same version to the candidate that wrote first (409)', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    await candidate(lease, 'old', clock).elector.tryAcquireOrRenew();
    const b = candidate(lease, 'b', clock);
    const c = candidate(lease, 'c', clock);
    await b.elector.tryAcquireOrRenew();
    await c.elector.tryAcquireOrRenew();
    clock.now += 15_000;
    // Both read the same expired record; only one replace can succeed.
    const results = await Promise.all([b.elector.tryAcquireOrRenew(), c.elector.tryAcquireOrRenew()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(['b', 'c']).toContain(lease.lease?.spec.holderIdentity);
  });

  it('stops vouching for writes once it has not renewed within the renew deadline', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    a.elector.start();
    await waitUntil(() => a.elector.isLeader);
    expect(a.elector.holdsLease()).toBe(true);
    expect(a.events).toEqual(['started']);
    // The process is frozen for 11 s: before its loop runs again, writes must stop.
    clock.now += 11_000;
    expect(a.elector.isLeader).toBe(true);
    expect(a.elector.holdsLease()).toBe(false);
    await a.elector.stop();
  });

  it('releases the Lease on stop so a standby takes over without waiting for expiry', async () => {
    const lease = new MemoryLease();
    const clock = { now: 0 };
    const a = candidate(lease, 'a', clock);
    a.elector.start();
    await waitUntil(() => a.elector.isLeader);
    const b = candidate(lease, 'b', clock);
    expect(await b.elector.tryAcquireOrRenew()).toBe(false);
    await a.elector.stop();
    expect(a.events).toEqual(['started', 'stopped: stopped']);
    expect(lease.lease?.spec.holderIdentity).toBe('');
    expect(await b.elector.tryAcquireOrRenew()).toBe(true);
  });

  it('refuses timings where the renew deadline is not below the lease duration', () => {
    const options = { identity: 'x', leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    expect(() => new LeaderElector(new MemoryLease(), options)).toThrow(/renew deadline/);
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition never held');
}
