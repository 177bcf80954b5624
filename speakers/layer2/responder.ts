// Answering ARP requests (RFC 826) and Neighbor Solicitations (RFC 4861 7.2.3) for the VIPs
// this node owns on one link: the I/O half around decideReply. It counts every frame under one
// outcome, reports other hosts claiming an owned VIP, and never lets a bad frame escape as an
// exception.
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
  /** Frames from another host claiming a VIP this node owns (RFC 5227 section 2.4), each counted. */
  conflicts: number;
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
    dropped: { 'not-owned': 0, 'not-a-request': 0, 'hop-limit': 0, 'not-for-us': 0, 'bad-requester': 0, 'own-frame': 0 },
    malformed: {},
    rateLimited: 0,
    conflicts: 0,
    sendErrors: 0,
    internalErrors: 0,
  };
}

/** The total of every malformed-frame counter. */
export function malformedTotal(counters: ResponderCounters): number {
  return Object.values(counters.malformed).reduce((sum, n) => sum + n, 0);
}

/** The outcome of one received frame, in the kebab-case a Prometheus label value takes. */
export type ResponderOutcome = 'answered' | 'rate-limited' | 'malformed' | 'conflict' | 'send-error' | 'internal-error' | IgnoreReason;

/** Every counter as one number per outcome; they add up to `received`, so each can be one label of a frames counter. */
export function responderOutcomes(counters: ResponderCounters): Record<ResponderOutcome, number> {
  return {
    answered: counters.answered,
    'rate-limited': counters.rateLimited,
    malformed: malformedTotal(counters),
    conflict: counters.conflicts,
    'send-error': counters.sendErrors,
    'internal-error': counters.internalErrors,
    ...counters.dropped,
  };
}

/**
 * How often onConflict is called: once a minute per (claimant MAC, VIP), and at most 1/s
 * (burst 10) for the link, so a flood of forged claims cannot flood the program's Events.
 */
export const conflictReportLimits: ReplyLimits = {
  perRequester: { perSecond: 1 / 60, burst: 1 },
  global: { perSecond: 1, burst: 10 },
  maxTracked: 256,
};

/** Tunables and hooks of a responder; every field has a default. */
export interface ResponderOptions {
  /** Reply rate limits (ADR 0007). */
  readonly limits?: ReplyLimits;
  /** Told that another host claims `vip` at `mac` (throttled by conflictReportLimits). */
  readonly onConflict?: (vip: string, mac: string) => void;
  /** Told about an unexpected exception while handling a frame, or thrown by onConflict. */
  readonly onInternalError?: (error: unknown) => void;
  /** Asked before every reply whether the node may still answer for the VIP (ADR 0017, rule 2). */
  readonly gate?: (vip: string) => boolean;
}

/** Answers requests for owned VIPs on one link, through the socket each request came in on. */
export class Responder {
  /** Counters since construction. */
  readonly counters: ResponderCounters = emptyResponderCounters();
  private readonly owned = new Set<string>();
  private readonly limiter: ReplyRateLimiter;
  private readonly conflictReports: ReplyRateLimiter;
  private readonly onConflict: (vip: string, mac: string) => void;
  private readonly onInternalError: (error: unknown) => void;
  private readonly gate: (vip: string) => boolean;
  private readonly owns = (address: string): boolean => this.owned.has(address) && this.gate(address);

  /**
   * @param mac this link's hardware address
   * @param scheduler the clock the rate limits read
   * @param options reply rate limits (ADR 0007) and hooks
   */
  constructor(
    private readonly mac: string,
    private readonly scheduler: Pick<Scheduler, 'now'>,
    options: ResponderOptions = {},
  ) {
    this.limiter = new ReplyRateLimiter(options.limits ?? defaultReplyLimits, scheduler.now());
    this.conflictReports = new ReplyRateLimiter(conflictReportLimits, scheduler.now());
    this.onConflict = options.onConflict ?? (() => undefined);
    this.onInternalError = options.onInternalError ?? (() => undefined);
    this.gate = options.gate ?? (() => true);
  }

  /** Starts answering for a VIP (canonical text). */
  own(address: string): void {
    this.owned.add(address);
  }

  /** Stops answering for a VIP: requests handled after this get no reply. */
  disown(address: string): void {
    this.owned.delete(address);
  }

  /** Whether the VIP is held here, gate aside (a lookup: announce and release call it once per VIP). */
  holds(address: string): boolean {
    return this.owned.has(address);
  }

  /** The VIPs answered for now. */
  owning(): string[] {
    return [...this.owned];
  }

  /**
   * Handles one received frame, replying through `via` if decideReply says so and the rate
   * limit allows; `type` is the kernel's packet type when the socket reports it.
   */
  handle(frame: Buffer, via: Pick<FrameSocket, 'send'>, type?: number): void {
    this.counters.received++;
    try {
      const decision = decideReply(frame, { mac: this.mac, owns: this.owns }, type);
      if (decision.action === 'malformed') {
        const reason = decision.error.reason;
        this.counters.malformed[reason] = (this.counters.malformed[reason] ?? 0) + 1;
        return;
      }
      if (decision.action === 'ignore') {
        this.counters.dropped[decision.reason]++;
        return;
      }
      if (decision.action === 'conflict') {
        this.counters.conflicts++;
        this.reportConflict(decision.vip, decision.mac);
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

  private reportConflict(vip: string, mac: string): void {
    if (!this.conflictReports.allow(mac, vip, this.scheduler.now())) return;
    try {
      this.onConflict(vip, mac);
    } catch (error) {
      this.onInternalError(error);
    }
  }
}
