// Token buckets that cap how often the responder answers: one per (requester, VIP) so one
// noisy or hostile host cannot crowd out the others, and one for the whole link so that
// requests from forged, ever-changing senders still cannot make us transmit without bound.
// The clock is passed in (milliseconds), so tests need no sleeping. See ADR 0007.

/** A rate and the burst allowed above it. */
export interface BucketLimit {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Bucket size: how many may go at once after a quiet spell. */
  readonly burst: number;
}

/** The responder's limits; defaults in defaultReplyLimits. */
export interface ReplyLimits {
  /** Per (requester link-layer address, VIP). */
  readonly perRequester: BucketLimit;
  /** For all replies on the link together. */
  readonly global: BucketLimit;
  /** Most (requester, VIP) buckets remembered; the oldest is forgotten beyond this. */
  readonly maxTracked: number;
}

/**
 * Defaults: 10/s with a burst of 20 per requester (a Linux neighbour sends at most ~3
 * solicitations a second), 2000/s with a burst of 500 for the link (ADR 0007).
 */
export const defaultReplyLimits: ReplyLimits = {
  perRequester: { perSecond: 10, burst: 20 },
  global: { perSecond: 2000, burst: 500 },
  maxTracked: 4096,
};

// Floating-point refills can leave a bucket a hair short of a whole token at exactly the time
// readyAt() promised; this much shortfall is forgiven.
const ROUNDING_SLACK = 1e-9;

/** One token bucket: full at creation, refilled continuously at `perSecond`, capped at `burst`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param limit rate and burst
   * @param now the current time in milliseconds
   */
  constructor(
    private readonly limit: BucketLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.last = now;
  }

  /** Takes `count` tokens (default one) if there are that many at time `now` (milliseconds); returns whether it did. */
  take(now: number, count = 1): boolean {
    this.refill(now);
    if (this.tokens < count - ROUNDING_SLACK) return false;
    this.tokens = Math.max(0, this.tokens - count);
    return true;
  }

  /** The earliest time, `now` or later, at which take(time, count) succeeds; Infinity if `count` exceeds the burst. */
  readyAt(now: number, count = 1): number {
    this.refill(now);
    if (count > this.limit.burst) return Infinity;
    return this.tokens >= count - ROUNDING_SLACK ? now : now + ((count - this.tokens) * 1000) / this.limit.perSecond;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.perSecond) / 1000);
    this.last = now;
  }
}

/** The two-level limit of the responder: a reply needs a token from its requester's bucket and from the link's. */
export class ReplyRateLimiter {
  private readonly perRequester = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;

  /**
   * @param limits rates, bursts and how many requesters to remember
   * @param now the current time in milliseconds
   */
  constructor(
    private readonly limits: ReplyLimits,
    now: number,
  ) {
    for (const [name, limit] of [['perRequester', limits.perRequester], ['global', limits.global]] as const) {
      if (!(limit.perSecond > 0) || !(limit.burst >= 1)) throw new RangeError(`${name} limit needs perSecond > 0 and burst >= 1`);
    }
    if (!Number.isInteger(limits.maxTracked) || limits.maxTracked < 1) throw new RangeError('maxTracked must be a positive integer');
    this.global = new TokenBucket(limits.global, now);
  }

  /** Whether a reply to `requester` about `vip` may go out at `now` (milliseconds); consumes tokens if so. */
  allow(requester: string, vip: string, now: number): boolean {
    const key = `${requester} ${vip}`;
    let bucket = this.perRequester.get(key);
    if (!bucket) {
      if (this.perRequester.size >= this.limits.maxTracked) this.forgetOldest();
      bucket = new TokenBucket(this.limits.perRequester, now);
      this.perRequester.set(key, bucket);
    }
    if (!bucket.take(now)) return false;
    // The link's bucket is asked second, so a requester over its own limit costs the others nothing.
    return this.global.take(now);
  }

  /** How many (requester, VIP) buckets are remembered. */
  tracked(): number {
    return this.perRequester.size;
  }

  // Forgets the bucket created longest ago, in O(1) (a Map iterates in insertion order), so a
  // flood of forged senders costs constant work per frame.
  private forgetOldest(): void {
    const oldest = this.perRequester.keys().next();
    if (!oldest.done) this.perRequester.delete(oldest.value);
  }
}
