// The peer-quorum Lease renewal interval (ADR 0017): 30 s up to 100 speakers, then 300 ms per
// speaker, so that the watch events renewals cause grow linearly with the cluster, and the
// member timeout stretched with it.
import { describe, expect, it } from 'vitest';
import { defaultOwnershipTiming, memberTimeoutMs, peerRenewIntervalMs } from '../../../src/speaker/layer2-ownership.js';

describe('peer-quorum Lease renewal', () => {
  it('renews every 30 s up to 100 speakers and 300 ms per speaker past that', () => {
    expect([3, 10, 100].map((n) => peerRenewIntervalMs(defaultOwnershipTiming, n))).toEqual([30_000, 30_000, 30_000]);
    expect([101, 500, 5000].map((n) => peerRenewIntervalMs(defaultOwnershipTiming, n))).toEqual([30_300, 150_000, 1_500_000]);
  });

  it('keeps cluster-wide renewal writes at or under 3.4/s and watch events linear in N', () => {
    for (const n of [3, 50, 100, 101, 250, 1000, 5000]) {
      const writesPerSecond = n / (peerRenewIntervalMs(defaultOwnershipTiming, n) / 1000);
      expect(writesPerSecond).toBeLessThanOrEqual(10 / 3 + 1e-9);
      // Each write reaches every speaker's watch.
      expect(writesPerSecond * n).toBeLessThanOrEqual((10 / 3) * n + 1e-9);
    }
  });

  it('stretches the member timeout with the renewal interval: three missed renewals', () => {
    expect(memberTimeoutMs(defaultOwnershipTiming, 100)).toBe(90_000);
    expect(memberTimeoutMs(defaultOwnershipTiming, 500)).toBe(450_000);
    for (const n of [3, 100, 300, 2000]) expect(memberTimeoutMs(defaultOwnershipTiming, n)).toBe(3 * peerRenewIntervalMs(defaultOwnershipTiming, n));
  });
});
