// Announcing VIPs on a link: on takeover a burst of gratuitous ARP (both forms) or unsolicited
// Neighbor Advertisements at once, then a periodic refresh so that neither a switch's
// forwarding table nor a neighbour's cache can age the VIP out, paced so that the link never
// carries more than a fixed number of refresh frames a second however many VIPs there are;
// silence the moment a VIP is released. Timing is in docs/adr/0007-layer2-announcement-timing.md.
import type { Buffer } from 'node:buffer';
import { encodeArpFrame, gratuitousArpReply, gratuitousArpRequest } from './codec/arp.js';
import { encodeNdpFrame, unsolicitedNeighborAdvertisement } from './codec/ndp.js';
import type { FrameSocket } from './packet-io.js';
import { TokenBucket } from './rate-limit.js';
import type { Scheduler, TimerHandle } from './scheduler.js';
import type { Vip } from './vip.js';

/** When announcements go out: a burst of rounds on takeover, then refresh rounds forever, within a budget per link. */
export interface AnnouncementTiming {
  /** Rounds in the takeover burst, the first sent at once (RFC 4861 7.2.6: up to 3). */
  readonly burstCount: number;
  /** Milliseconds between burst rounds (RFC 4861 7.2.6: at least RetransTimer, 1000 ms). */
  readonly burstIntervalMs: number;
  /** Milliseconds between a VIP's refresh rounds after its burst, at the least; 0 turns refreshing off. */
  readonly refreshIntervalMs: number;
  /**
   * Most refresh frames a second on the link, whatever the number of VIPs, with a burst of as
   * many (so never twice as many in any one second); at least 2, one IPv4 round. When the VIPs
   * need more, their refreshes are spread over a longer cycle. Takeover bursts are not counted.
   * Default defaultRefreshFramesPerSecond.
   */
  readonly refreshFramesPerSecond?: number;
}

/** The refresh budget unless a timing says otherwise: 10 frames/s, below switches' ARP inspection defaults (ADR 0007). */
export const defaultRefreshFramesPerSecond = 10;

/** The defaults: 3 rounds 1 s apart (RFC 4861 7.2.6), then a round every 10 s within 10 frames/s for the link (ADR 0007). */
export const defaultAnnouncementTiming: AnnouncementTiming = {
  burstCount: 3,
  burstIntervalMs: 1000,
  refreshIntervalMs: 10_000,
  refreshFramesPerSecond: defaultRefreshFramesPerSecond,
};

/** Checks a timing against RFC 4861 7.2.6 (rounds at least 1 s apart) and sense; throws RangeError naming the field. */
export function validateAnnouncementTiming(timing: AnnouncementTiming): AnnouncementTiming {
  const { burstCount, burstIntervalMs, refreshIntervalMs } = timing;
  if (!Number.isInteger(burstCount) || burstCount < 1 || burstCount > 10) {
    throw new RangeError(`burstCount must be an integer 1-10, not ${burstCount}`);
  }
  if (!Number.isFinite(burstIntervalMs) || burstIntervalMs < 1000) {
    throw new RangeError(`burstIntervalMs must be at least 1000 (RFC 4861 7.2.6 RetransTimer), not ${burstIntervalMs}`);
  }
  if (!Number.isFinite(refreshIntervalMs) || (refreshIntervalMs !== 0 && refreshIntervalMs < 1000)) {
    throw new RangeError(`refreshIntervalMs must be 0 (off) or at least 1000, not ${refreshIntervalMs}`);
  }
  const { refreshFramesPerSecond: budget } = timing;
  if (budget !== undefined && !(Number.isFinite(budget) && budget >= 2)) {
    throw new RangeError(`refreshFramesPerSecond must be at least 2 (one IPv4 round), not ${budget}`);
  }
  return timing;
}

/**
 * How long after round number `roundsSent` (1-based) the next round goes out, or undefined
 * when none does: the burst spacing until `burstCount` rounds are out, then the refresh
 * interval (at the earliest: the link's refresh budget may hold a refresh back).
 */
export function nextRoundDelay(roundsSent: number, timing: AnnouncementTiming): number | undefined {
  if (roundsSent < timing.burstCount) return timing.burstIntervalMs;
  return timing.refreshIntervalMs > 0 ? timing.refreshIntervalMs : undefined;
}

/**
 * The frames of one announcement round for a VIP at `mac`: for IPv4 the request form and the
 * reply form of gratuitous ARP (RFC 5227 section 3; the reply with target MAC = own MAC, which
 * Linux honours within its locktime), for IPv6 one unsolicited NA (RFC 4861 7.2.6).
 */
export function announcementFrames(vip: Vip, mac: string): { arp: Buffer[]; ndp: Buffer[] } {
  if (vip.family === 4) {
    return { arp: [encodeArpFrame(gratuitousArpRequest(vip.address, mac)), encodeArpFrame(gratuitousArpReply(vip.address, mac))], ndp: [] };
  }
  return { arp: [], ndp: [encodeNdpFrame(unsolicitedNeighborAdvertisement(vip.address, mac))] };
}

/** The sockets an announcer sends through: ARP frames on one, IPv6 frames on the other. */
export interface AnnouncerSockets {
  /** Sends ARP frames (EtherType 0x0806). */
  readonly arp: Pick<FrameSocket, 'send'>;
  /** Sends IPv6 frames (EtherType 0x86dd). */
  readonly ndp: Pick<FrameSocket, 'send'>;
}

/** What an announcer has done, for metrics. */
export interface AnnouncerCounters {
  /** Announcement rounds sent (a round is 2 ARP frames or 1 NA). */
  rounds: number;
  /** Frames handed to the socket successfully. */
  framesSent: number;
  /** Sends the socket refused (link down, buffer full); the schedule carries on. */
  sendErrors: number;
  /** Frames held back because the node may no longer answer for the VIP (ADR 0017). */
  gated: number;
}

interface Announcement {
  readonly frames: { arp: Buffer[]; ndp: Buffer[] };
  /** Frames in one round: 2 for IPv4, 1 for IPv6. */
  readonly size: number;
  /** Burst rounds sent so far. */
  rounds: number;
  burstTimer: { readonly handle: TimerHandle } | undefined;
}

/**
 * Sends the takeover burst and periodic refreshes for each VIP it is told to announce on one
 * link. Bursts go out on their own timers, unthrottled; refreshes take turns in one queue
 * paced by the link's refresh budget (ADR 0007).
 */
export class Announcer {
  /** Counters since construction. */
  readonly counters: AnnouncerCounters = { rounds: 0, framesSent: 0, sendErrors: 0, gated: 0 };
  private readonly active = new Map<string, Announcement>();
  /** VIPs past their burst, address → when the next refresh is due, in due order (a Map keeps insertion order). */
  private readonly refreshQueue = new Map<string, number>();
  private refreshTimer: { readonly handle: TimerHandle } | undefined;
  private readonly budget: TokenBucket;
  private readonly timing: AnnouncementTiming;
  private readonly framesPerSecond: number;
  private framesPerCycle = 0;

  /**
   * @param sockets where frames go
   * @param mac this link's hardware address, the one the VIPs are announced at
   * @param scheduler clock and timers (a fake in tests)
   * @param timing burst and refresh timing, checked by validateAnnouncementTiming
   * @param onSendError told about each refused send (the announcer itself keeps going)
   */
  constructor(
    private readonly sockets: AnnouncerSockets,
    private readonly mac: string,
    private readonly scheduler: Scheduler,
    timing: AnnouncementTiming = defaultAnnouncementTiming,
    private readonly onSendError: (vip: string, error: unknown) => void = () => undefined,
    private readonly gate: (vip: string) => boolean = () => true,
  ) {
    this.timing = validateAnnouncementTiming(timing);
    this.framesPerSecond = timing.refreshFramesPerSecond ?? defaultRefreshFramesPerSecond;
    this.budget = new TokenBucket({ perSecond: this.framesPerSecond, burst: this.framesPerSecond }, scheduler.now());
  }

  /** Starts announcing: the first round goes out before this returns. A VIP already announced is left alone. */
  start(vip: Vip): void {
    if (this.active.has(vip.address)) return;
    const frames = announcementFrames(vip, this.mac);
    const announcement: Announcement = { frames, size: frames.arp.length + frames.ndp.length, rounds: 0, burstTimer: undefined };
    this.active.set(vip.address, announcement);
    this.framesPerCycle += announcement.size;
    this.burstRound(vip.address, announcement);
  }

  /** Stops announcing at once: no frame for the VIP is sent after this returns. */
  stop(address: string): void {
    const announcement = this.active.get(address);
    if (!announcement) return;
    if (announcement.burstTimer !== undefined) this.scheduler.clearTimeout(announcement.burstTimer.handle);
    this.active.delete(address);
    this.framesPerCycle -= announcement.size;
    if (this.refreshQueue.delete(address)) this.rearmRefresh();
  }

  /** Stops every announcement. */
  stopAll(): void {
    for (const address of [...this.active.keys()]) this.stop(address);
  }

  /** The VIPs being announced, in canonical text. */
  announcing(): string[] {
    return [...this.active.keys()];
  }

  /**
   * The longest a VIP now waits between two refreshes: the refresh interval, or the time the
   * budget needs for one round of every VIP, whichever is longer; 0 when refreshing is off.
   */
  refreshCycleMs(): number {
    if (this.timing.refreshIntervalMs === 0) return 0;
    return Math.max(this.timing.refreshIntervalMs, (this.framesPerCycle * 1000) / this.framesPerSecond);
  }

  private burstRound(address: string, announcement: Announcement): void {
    announcement.burstTimer = undefined;
    if (this.active.get(address) !== announcement) return;
    this.sendRound(address, announcement);
    announcement.rounds++;
    const delay = nextRoundDelay(announcement.rounds, this.timing);
    if (delay === undefined) return;
    if (announcement.rounds < this.timing.burstCount) {
      announcement.burstTimer = { handle: this.scheduler.setTimeout(() => this.burstRound(address, announcement), delay) };
    } else {
      this.refreshQueue.set(address, this.scheduler.now() + delay);
      this.armRefresh();
    }
  }

  // Sends every refresh that is due and within budget, oldest due first, then waits for the next.
  private refreshDue(): void {
    this.refreshTimer = undefined;
    const now = this.scheduler.now();
    for (const [address, due] of this.refreshQueue) {
      const announcement = this.active.get(address);
      if (!announcement) {
        this.refreshQueue.delete(address);
        continue;
      }
      if (due > now || !this.budget.take(now, announcement.size)) break;
      this.refreshQueue.delete(address);
      this.sendRound(address, announcement);
      this.refreshQueue.set(address, now + this.timing.refreshIntervalMs); // to the back; the loop stops when it comes round
    }
    this.armRefresh();
  }

  private armRefresh(): void {
    if (this.refreshTimer !== undefined) return;
    const head = this.refreshQueue.entries().next();
    if (head.done) return;
    const [address, due] = head.value;
    const now = this.scheduler.now();
    const at = Math.max(due, this.budget.readyAt(now, this.active.get(address)?.size ?? 0));
    this.refreshTimer = { handle: this.scheduler.setTimeout(() => this.refreshDue(), Math.max(0, at - now)) };
  }

  private rearmRefresh(): void {
    if (this.refreshTimer !== undefined) this.scheduler.clearTimeout(this.refreshTimer.handle);
    this.refreshTimer = undefined;
    this.armRefresh();
  }

  private sendRound(address: string, announcement: Announcement): void {
    for (const frame of announcement.frames.arp) this.send(this.sockets.arp, frame, address);
    for (const frame of announcement.frames.ndp) this.send(this.sockets.ndp, frame, address);
    this.counters.rounds++;
  }

  private send(socket: Pick<FrameSocket, 'send'>, frame: Buffer, address: string): void {
    // Checked before every frame, not only when the VIP was taken: the owner's right to answer
    // can end between two frames of a round (ADR 0017, rule 2).
    if (!this.gate(address)) {
      this.counters.gated++;
      return;
    }
    try {
      socket.send(frame);
      this.counters.framesSent++;
    } catch (error) {
      this.counters.sendErrors++;
      this.onSendError(address, error);
    }
  }
}
