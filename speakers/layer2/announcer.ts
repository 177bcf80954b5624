// Announcing VIPs on a link: on takeover a burst of gratuitous ARP (both forms) or unsolicited
// Neighbor Advertisements at once, then a periodic refresh so that neither a switch's
// forwarding table nor a neighbour's cache can age the VIP out; silence the moment it is
// released. Timing is in docs/adr/0007-layer2-announcement-timing.md.
import type { Buffer } from 'node:buffer';
import { encodeArpFrame, gratuitousArpReply, gratuitousArpRequest } from './codec/arp.js';
import { encodeNdpFrame, unsolicitedNeighborAdvertisement } from './codec/ndp.js';
import type { FrameSocket } from './packet-io.js';
import type { Scheduler, TimerHandle } from './scheduler.js';
import type { Vip } from './vip.js';

/** When announcements go out: a burst of rounds on takeover, then a refresh round forever. */
export interface AnnouncementTiming {
  /** Rounds in the takeover burst, the first sent at once (RFC 4861 7.2.6: up to 3). */
  readonly burstCount: number;
  /** Milliseconds between burst rounds (RFC 4861 7.2.6: at least RetransTimer, 1000 ms). */
  readonly burstIntervalMs: number;
  /** Milliseconds between refresh rounds after the burst; 0 turns refreshing off. */
  readonly refreshIntervalMs: number;
}

/** The defaults: 3 rounds 1 s apart (RFC 4861 7.2.6), then a round every 10 s (ADR 0007). */
export const defaultAnnouncementTiming: AnnouncementTiming = { burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 10_000 };

/** Checks a timing against RFC 4861 7.2.6 (rounds at least 1 s apart); throws RangeError naming the field. */
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
  return timing;
}

/**
 * How long after round number `roundsSent` (1-based) the next round goes out, or undefined
 * when none does: the burst spacing until `burstCount` rounds are out, then the refresh interval.
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
}

interface Announcement {
  readonly frames: { arp: Buffer[]; ndp: Buffer[] };
  rounds: number;
  timer: { readonly handle: TimerHandle } | undefined;
}

/** Sends the takeover burst and periodic refreshes for each VIP it is told to announce on one link. */
export class Announcer {
  /** Counters since construction. */
  readonly counters: AnnouncerCounters = { rounds: 0, framesSent: 0, sendErrors: 0 };
  private readonly active = new Map<string, Announcement>();
  private readonly timing: AnnouncementTiming;

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
  ) {
    this.timing = validateAnnouncementTiming(timing);
  }

  /** Starts announcing: the first round goes out before this returns. A VIP already announced is left alone. */
  start(vip: Vip): void {
    if (this.active.has(vip.address)) return;
    const announcement: Announcement = { frames: announcementFrames(vip, this.mac), rounds: 0, timer: undefined };
    this.active.set(vip.address, announcement);
    this.round(vip.address, announcement);
  }

  /** Stops announcing at once: no frame for the VIP is sent after this returns. */
  stop(address: string): void {
    const announcement = this.active.get(address);
    if (!announcement) return;
    if (announcement.timer !== undefined) this.scheduler.clearTimeout(announcement.timer.handle);
    this.active.delete(address);
  }

  /** Stops every announcement. */
  stopAll(): void {
    for (const address of [...this.active.keys()]) this.stop(address);
  }

  /** The VIPs being announced, in canonical text. */
  announcing(): string[] {
    return [...this.active.keys()];
  }

  private round(address: string, announcement: Announcement): void {
    announcement.timer = undefined;
    if (this.active.get(address) !== announcement) return;
    for (const frame of announcement.frames.arp) this.send(this.sockets.arp, frame, address);
    for (const frame of announcement.frames.ndp) this.send(this.sockets.ndp, frame, address);
    announcement.rounds++;
    this.counters.rounds++;
    const delay = nextRoundDelay(announcement.rounds, this.timing);
    if (delay !== undefined) {
      announcement.timer = { handle: this.scheduler.setTimeout(() => this.round(address, announcement), delay) };
    }
  }

  private send(socket: Pick<FrameSocket, 'send'>, frame: Buffer, address: string): void {
    try {
      socket.send(frame);
      this.counters.framesSent++;
    } catch (error) {
      this.counters.sendErrors++;
      this.onSendError(address, error);
    }
  }
}
