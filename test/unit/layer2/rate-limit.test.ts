import { describe, expect, it } from 'vitest';
import { ReplyRateLimiter, TokenBucket, defaultReplyLimits } from '../../../speakers/layer2/rate-limit.js';

describe('TokenBucket', () => {
  it('starts full, empties, and refills at its rate up to its burst', () => {
    const bucket = new TokenBucket({ perSecond: 4, burst: 2 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
    expect(bucket.take(200)).toBe(false); // 0.8 of a token
    expect(bucket.take(250)).toBe(true);
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([true, true, false]);
  });

  it('takes several tokens at once and says when enough will be there', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 10 }, 0);
    expect(bucket.take(0, 9)).toBe(true);
    expect(bucket.readyAt(0, 2)).toBe(100); // one left; the second arrives 100 ms later
    expect(bucket.take(99, 2)).toBe(false);
    expect(bucket.take(bucket.readyAt(99, 2), 2)).toBe(true);
    expect(bucket.readyAt(100, 11)).toBe(Infinity); // more than the bucket holds never comes
  });

  it('is not refilled by a clock that goes backwards', () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, 1000);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(0)).toBe(false);
    expect(bucket.take(999)).toBe(false);
  });
});

describe('ReplyRateLimiter', () => {
  it('keys buckets by requester and VIP', () => {
    const limiter = new ReplyRateLimiter({ ...defaultReplyLimits, perRequester: { perSecond: 1, burst: 1 } }, 0);
    expect(limiter.allow('a', '192.0.2.1', 0)).toBe(true);
    expect(limiter.allow('a', '192.0.2.1', 0)).toBe(false);
    expect(limiter.allow('a', '192.0.2.2', 0)).toBe(true);
    expect(limiter.allow('b', '192.0.2.1', 0)).toBe(true);
    expect(limiter.tracked()).toBe(3);
  });

  it('remembers at most maxTracked requesters, forgetting the oldest', () => {
    const limiter = new ReplyRateLimiter({ ...defaultReplyLimits, perRequester: { perSecond: 1, burst: 1 }, maxTracked: 2 }, 0);
    limiter.allow('a', 'v', 0);
    limiter.allow('b', 'v', 0);
    limiter.allow('c', 'v', 0); // forgets a
    expect(limiter.tracked()).toBe(2);
    expect(limiter.allow('b', 'v', 0)).toBe(false);
    expect(limiter.allow('a', 'v', 0)).toBe(true); // a new, full bucket
  });

  it('refuses limits that would block everything or nothing sensible', () => {
    expect(() => new ReplyRateLimiter({ ...defaultReplyLimits, global: { perSecond: 0, burst: 1 } }, 0)).toThrow(RangeError);
    expect(() => new ReplyRateLimiter({ ...defaultReplyLimits, maxTracked: 0 }, 0)).toThrow(RangeError);
  });
});
