// Answering ARP requests (RFC 826) and Neighbor Solicitations (RFC 4861 7.2.3) for the VIPs
// this node owns on one link: the I/O half around decideReply. It counts everything it does
// not answer and never lets a bad frame escape as an exception.
import type { Buffer } from 'node:buffer';
import type { Layer2DecodeReason } from './codec/errors.js';
import { encodeLayer2Frame } from './codec/layer2-frame.js';
import type { FrameSocket } from './packet-io.js';
import { ReplyRateLimiter, defaultReplyLimits } from './rate-limit.js';
import type { ReplyLimits } from './rate-limit.js';
import { decideReply } from './reply-decision.js';
import type { IgnoreReason } from './reply-decision.js';
import type { Scheduler } from './scheduler.js';

/** What a responder has seen and done, for metrics. */
export interface ResponderCounters {
  /** Frames handed to the responder. */
  received: number;
  /** Replies sent. */
  answered: number;
  /** Well-formed frames not answered, by reason (not owned, hop limit, ...). */
  dropped: Record<IgnoreReason, number>;
  /** Frames the codec refused, by the rule they broke. */
  malformed: Partial<Record<Layer2DecodeReason, number>>;
  /** Replies withheld by the rate limit. */
  rateLimited: number;
  /** Replies the socket refused to send. */
  sendErrors: number;
  /** Frames that raised something other than a decode error (a bug); they are dropped too. */
  internalErrors: number;
}

/** Counters all at zero. */
export function emptyResponderCounters(): ResponderCounters {
  return {
    received: 0,
    answered: 0,
    dropped: { 'not-owned': 0, 'not-a-request': 0, 'hop-limit': 0, conflict: 0, 'bad-requester': 0, 'own-frame': 0 },
    malformed: {},
    rateLimited: 0,
    sendErrors: 0,
    internalErrors: 0,
  };
}

/** The total of every malformed-frame counter. */
export function malformedTotal(counters: ResponderCounters): number {
  return Object.values(counters.malformed).reduce((sum, n) => sum + n, 0);
}

/** Answers requests for owned VIPs on one link, through the socket each request came in on. */
export class Responder {
  /** Counters since construction. */
  readonly counters: ResponderCounters = emptyResponderCounters();
  private readonly owned = new Set<string>();
  private readonly limiter: ReplyRateLimiter;
  private readonly owns = (address: string): boolean => this.owned.has(address);

  /**
   * @param mac this link's hardware address
   * @param scheduler the clock the rate limit reads
   * @param limits reply rate limits (ADR 0007)
   * @param onInternalError told about an unexpected exception while handling a frame
   */
  constructor(
    private readonly mac: string,
    private readonly scheduler: Pick<Scheduler, 'now'>,
    limits: ReplyLimits = defaultReplyLimits,
    private readonly onInternalError: (error: unknown) => void = () => undefined,
  ) {
    this.limiter = new ReplyRateLimiter(limits, scheduler.now());
  }

  /** Starts answering for a VIP (canonical text). */
  own(address: string): void {
    this.owned.add(address);
  }

  /** Stops answering for a VIP: requests handled after this get no reply. */
  disown(address: string): void {
    this.owned.delete(address);
  }

  /** The VIPs answered for now. */
  owning(): string[] {
    return [...this.owned];
  }

  /** Handles one received frame, replying through `via` if decideReply says so and the rate limit allows. */
  handle(frame: Buffer, via: Pick<FrameSocket, 'send'>): void {
    this.counters.received++;
    try {
      const decision = decideReply(frame, { mac: this.mac, owns: this.owns });
      if (decision.action === 'malformed') {
        const reason = decision.error.reason;
        this.counters.malformed[reason] = (this.counters.malformed[reason] ?? 0) + 1;
        return;
      }
      if (decision.action === 'ignore') {
        this.counters.dropped[decision.reason]++;
        return;
      }
      if (!this.limiter.allow(decision.requester, decision.vip, this.scheduler.now())) {
        this.counters.rateLimited++;
        return;
      }
      try {
        via.send(encodeLayer2Frame(decision.frame));
        this.counters.answered++;
      } catch {
        this.counters.sendErrors++;
      }
    } catch (error) {
      this.counters.internalErrors++;
      this.onInternalError(error);
    }
  }
}
