// The layer-2 speaker of one interface: the owner tells it which VIPs this node holds
// (announce) and which it gave up (release); it keeps the announcer, the responder and the
// solicited-node multicast memberships in step, and reports other hosts claiming its VIPs. Decisions live in reply-decision.ts and
// announcer.ts; this file only wires them to sockets.
import type { Buffer } from 'node:buffer';
import { Announcer, defaultAnnouncementTiming } from './announcer.js';
import type { AnnouncementTiming, AnnouncerCounters } from './announcer.js';
import { arpFilter, neighborDiscoveryFilter } from './bpf.js';
import type { BpfInstruction } from './bpf.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6, formatMac, parseMac } from './codec/ethernet.js';
import { ipv6MulticastMac, solicitedNodeAddress } from './codec/ipv6.js';
import { interfaceInfo, openFrameSocket } from './packet-io.js';
import type { FrameSocket } from './packet-io.js';
import { defaultReplyLimits } from './rate-limit.js';
import type { ReplyLimits } from './rate-limit.js';
import { Responder } from './responder.js';
import type { ResponderCounters } from './responder.js';
import { systemScheduler } from './scheduler.js';
import type { Scheduler } from './scheduler.js';
import { parseVip } from './vip.js';
import type { Vip } from './vip.js';

/**
 * Opens a socket on the speaker's interface for one EtherType, passing frames the filter admits
 * to onFrame with the kernel's packet type (packetType) where the socket knows it.
 */
export type OpenSocket = (etherType: number, filter: readonly BpfInstruction[], onFrame: (frame: Buffer, type?: number) => void) => FrameSocket;

/** Tunables of a speaker; every field has a default. */
export interface Layer2SpeakerOptions {
  /** Burst and refresh timing (ADR 0007). */
  readonly timing?: AnnouncementTiming;
  /** Reply rate limits (ADR 0007). */
  readonly limits?: ReplyLimits;
  /** Clock and timers; the real ones by default. */
  readonly scheduler?: Scheduler;
  /** Told about failures the speaker survives (a send refused, an unexpected exception). */
  readonly onError?: (message: string) => void;
  /**
   * Told that another host claims a VIP this speaker holds, at hardware address `mac` (a
   * gratuitous ARP, ARP reply or NA from another MAC): at most once a minute per VIP and MAC,
   * while the responder's `conflicts` counter counts every such frame.
   */
  readonly onConflict?: (vip: string, mac: string) => void;
  /** Asked before every frame sent for a VIP whether the node may still answer for it (ADR 0017). */
  readonly gate?: (vip: string) => boolean;
}

/** Everything a speaker counts, for metrics. */
export interface Layer2SpeakerCounters {
  /** Announcement rounds and frames. */
  readonly announcer: AnnouncerCounters;
  /** Frames answered, dropped (by reason), malformed, rate-limited and in conflict; responderOutcomes flattens them. */
  readonly responder: ResponderCounters;
}

/**
 * The solicited-node multicast MAC a node must receive to hear Neighbor Solicitations for an
 * IPv6 address (RFC 4861 section 7.2.1, RFC 4291 2.7.1, RFC 2464 section 7).
 */
export function solicitationGroupMac(address: string): string {
  return ipv6MulticastMac(solicitedNodeAddress(address));
}

/** Announces and answers for the VIPs this node owns on one interface. */
export class Layer2Speaker {
  private readonly announcer: Announcer;
  private readonly responder: Responder;
  private readonly arpSocket: FrameSocket;
  private readonly ndpSocket: FrameSocket;
  private readonly groups = new Map<string, number>();
  private closed = false;

  /**
   * Opens a speaker on a real interface (needs CAP_NET_RAW): its MAC is read from the kernel.
   * Throws if the interface does not exist or the packet socket addon is not built.
   */
  static open(interfaceName: string, options: Layer2SpeakerOptions = {}): Layer2Speaker {
    const mac = formatMac(interfaceInfo(interfaceName).mac);
    return new Layer2Speaker(mac, (etherType, filter, onFrame) => openFrameSocket(interfaceName, etherType, filter, onFrame), options);
  }

  /**
   * @param mac the interface's hardware address, which VIPs are announced and answered with
   * @param openSocket opens the interface's ARP and IPv6 sockets (a fake in tests)
   * @param options timing, limits, clock
   */
  constructor(
    readonly mac: string,
    openSocket: OpenSocket,
    options: Layer2SpeakerOptions = {},
  ) {
    const scheduler = options.scheduler ?? systemScheduler;
    const onError = options.onError ?? (() => undefined);
    this.responder = new Responder(mac, scheduler, {
      limits: options.limits ?? defaultReplyLimits,
      ...(options.onConflict ? { onConflict: options.onConflict } : {}),
      onInternalError: (error) => onError(`responder: unexpected error: ${String(error)}`),
      ...(options.gate ? { gate: options.gate } : {}),
    });
    this.arpSocket = openSocket(ETHERTYPE_ARP, arpFilter, (frame, type) => this.responder.handle(frame, this.arpSocket, type));
    try {
      this.ndpSocket = openSocket(ETHERTYPE_IPV6, neighborDiscoveryFilter, (frame, type) => this.responder.handle(frame, this.ndpSocket, type));
    } catch (error) {
      this.arpSocket.close();
      throw error;
    }
    this.announcer = new Announcer(
      { arp: this.arpSocket, ndp: this.ndpSocket },
      mac,
      scheduler,
      options.timing ?? defaultAnnouncementTiming,
      (vip, error) => onError(`announcer: cannot send for ${vip}: ${String(error)}`),
      options.gate,
    );
  }

  /**
   * Takes over a VIP: joins its solicited-node group (IPv6), answers for it, and sends the
   * takeover burst before returning. Returns the VIP in canonical form; throws RangeError for
   * an address no host may own. Announcing a VIP already held changes nothing.
   */
  announce(text: string): Vip {
    if (this.closed) throw new Error('the layer-2 speaker is closed');
    const vip = parseVip(text);
    if (this.responder.holds(vip.address)) return vip;
    if (vip.family === 6) this.join(solicitationGroupMac(vip.address));
    this.responder.own(vip.address);
    this.announcer.start(vip);
    return vip;
  }

  /** Gives up a VIP at once: no announcement or reply for it leaves after this returns. Returns whether it was held. */
  release(text: string): boolean {
    const vip = parseVip(text);
    if (!this.responder.holds(vip.address)) return false;
    this.announcer.stop(vip.address);
    this.responder.disown(vip.address);
    if (vip.family === 6 && !this.closed) this.leave(solicitationGroupMac(vip.address));
    return true;
  }

  /** The VIPs held now, in canonical text. */
  announced(): string[] {
    return this.responder.owning();
  }

  /**
   * The longest any held VIP now waits between two refreshes (ms): the refresh interval, or
   * longer when the link's refresh budget must spread many VIPs out (ADR 0007); 0 when off.
   */
  refreshCycleMs(): number {
    return this.announcer.refreshCycleMs();
  }

  /** Counters of the announcer and responder. */
  counters(): Layer2SpeakerCounters {
    return { announcer: this.announcer.counters, responder: this.responder.counters };
  }

  /** Releases every VIP and closes the sockets; the speaker cannot be used again. */
  close(): void {
    if (this.closed) return;
    for (const address of this.announced()) this.release(address);
    this.closed = true;
    this.arpSocket.close();
    this.ndpSocket.close();
  }

  // Memberships are counted here: two VIPs can share a solicited-node group.
  private join(group: string): void {
    const count = this.groups.get(group) ?? 0;
    if (count === 0) this.ndpSocket.addMulticast(parseMac(group));
    this.groups.set(group, count + 1);
  }

  private leave(group: string): void {
    const count = this.groups.get(group) ?? 0;
    if (count <= 1) {
      this.groups.delete(group);
      if (count === 1) this.ndpSocket.dropMulticast(parseMac(group));
    } else {
      this.groups.set(group, count - 1);
    }
  }
}
