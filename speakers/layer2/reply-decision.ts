// Whether to answer a received frame, and with what: a pure function of the frame's bytes, the
// packet type the kernel reported, the VIPs this node owns right now and this link's MAC. ARP
// per RFC 826 and RFC 5227; Neighbor Solicitations per RFC 4861 sections 7.1.1 and 7.2.3-7.2.4.
// Frames addressed to other hosts (seen on a promiscuous port) are not answered, as MetalLB's
// layer-2 responder does not, and another host claiming an owned VIP is reported as a conflict.
import type { Buffer } from 'node:buffer';
import { arpReplyTo } from './codec/arp.js';
import type { ArpFrame } from './codec/arp.js';
import { BROADCAST_MAC, isGroupMac } from './codec/ethernet.js';
import { Layer2DecodeError } from './codec/errors.js';
import { ALL_NODES_ADDRESS, ipv6MulticastMac, isUnspecifiedIpv6, solicitedNodeAddress } from './codec/ipv6.js';
import { decodeLayer2Frame } from './codec/layer2-frame.js';
import type { Layer2Frame } from './codec/layer2-frame.js';
import { NDP_HOP_LIMIT, neighborAdvertisementFor } from './codec/ndp.js';
import type { NdpFrame } from './codec/ndp.js';
import { packetType } from './packet-type.js';

/** What the decision needs to know about this node and link. */
export interface ReplyContext {
  /** This link's hardware address, the one owned VIPs are answered with. */
  readonly mac: string;
  /** Whether this node owns the VIP (canonical text) on this link right now. */
  owns(address: string): boolean;
}

/** Why a well-formed frame gets no answer. */
export type IgnoreReason =
  /** The frame asks for an address this node does not own now. */
  | 'not-owned'
  /** An ARP reply, an announcement or a Neighbor Advertisement: nothing to answer. */
  | 'not-a-request'
  /** An NS or NA whose hop limit is not 255, so it may come from off-link (RFC 4861 7.1.1, 7.1.2). */
  | 'hop-limit'
  /** Addressed to another host, or to a group the request does not belong to (a promiscuous port sees these). */
  | 'not-for-us'
  /** The requester's hardware address is a group address, so no unicast answer can reach it. */
  | 'bad-requester'
  /** A frame sent from this link's own MAC. */
  | 'own-frame';

/** The verdict on one received frame, tagged by `action`. */
export type ReplyDecision =
  | {
      /** Answer with `frame`. */
      readonly action: 'reply';
      /** The owned VIP asked for. */
      readonly vip: string;
      /** Link-layer address of the requester, the key for per-requester rate limiting. */
      readonly requester: string;
      /** The answer to send. */
      readonly frame: Layer2Frame;
    }
  | {
      /** Another host claims a VIP this node owns (RFC 5227 section 2.4); nothing is sent. */
      readonly action: 'conflict';
      /** The owned VIP claimed. */
      readonly vip: string;
      /** The hardware address it is claimed for. */
      readonly mac: string;
    }
  | {
      /** Well-formed, but no answer. */
      readonly action: 'ignore';
      /** Why not. */
      readonly reason: IgnoreReason;
    }
  | {
      /** The codec refused the bytes. */
      readonly action: 'malformed';
      /** The rule the bytes broke. */
      readonly error: Layer2DecodeError;
    };

/**
 * Decides whether and how to answer one received Ethernet frame (ARP, RFC 826; NS, RFC 4861
 * 7.2.3). `type` is the kernel's packet type (packetType) when the socket reports it.
 */
export function decideReply(bytes: Buffer, context: ReplyContext, type?: number): ReplyDecision {
  let received: Layer2Frame;
  try {
    received = decodeLayer2Frame(bytes);
  } catch (error) {
    if (error instanceof Layer2DecodeError) return { action: 'malformed', error };
    throw error;
  }
  return received.kind === 'arp' ? decideArp(received.frame, context, type) : decideNdp(received.frame, context, type);
}

function decideArp(frame: ArpFrame, context: ReplyContext, type: number | undefined): ReplyDecision {
  const { ethernet, arp } = frame;
  if (ethernet.source === context.mac) return ignore('own-frame');
  // RFC 5227 section 2.4: any ARP packet, request or reply, whose sender IP is our address and
  // whose sender hardware address is not ours is a conflicting packet, wherever it was sent.
  if (context.owns(arp.senderIp) && arp.senderMac !== context.mac) return { action: 'conflict', vip: arp.senderIp, mac: arp.senderMac };
  if (arp.operation !== 'request') return ignore('not-a-request');
  // Requests are broadcast, or unicast to the host whose entry is being checked; anything
  // else reached us only because the port is promiscuous.
  if (type === packetType.otherHost) return ignore('not-for-us');
  if (ethernet.destination !== BROADCAST_MAC && ethernet.destination !== context.mac) return ignore('not-for-us');
  if (!context.owns(arp.targetIp)) return ignore('not-owned');
  // RFC 5227 section 3: an announcement (sender IP = target IP) asks nothing. A probe (sender
  // IP 0.0.0.0) is answered, as Linux does, which defends the address (RFC 5227 section 2.4).
  if (arp.senderIp === arp.targetIp) return ignore('not-a-request');
  if (isGroupMac(arp.senderMac)) return ignore('bad-requester');
  return { action: 'reply', vip: arp.targetIp, requester: arp.senderMac, frame: { kind: 'arp', frame: arpReplyTo(frame, context.mac) } };
}

function decideNdp(frame: NdpFrame, context: ReplyContext, type: number | undefined): ReplyDecision {
  const { ethernet, packet } = frame;
  const message = packet.message;
  if (ethernet.source === context.mac) return ignore('own-frame');
  // RFC 4861 7.1.1, 7.1.2: a node MUST silently discard an NS or NA whose IP hop limit is not
  // 255, so an off-link sender can neither ask nor claim.
  if (packet.hopLimit !== NDP_HOP_LIMIT) return ignore('hop-limit');
  const claimed = claimIn(frame);
  if (claimed && context.owns(claimed.vip) && claimed.mac !== context.mac) return { action: 'conflict', ...claimed };
  if (message.type !== 'neighbor-solicitation') return ignore('not-a-request');
  if (type === packetType.otherHost || !addressedToUs(frame, context.mac)) return ignore('not-for-us');
  if (!context.owns(message.target)) return ignore('not-owned');
  const requester = message.sourceLinkLayerAddress ?? ethernet.source;
  if (isGroupMac(requester)) return ignore('bad-requester');
  // neighborAdvertisementFor applies RFC 4861 7.2.4: S=1 unicast back, or S=0 to ff02::1 for an
  // NS from :: (duplicate address detection by a host that wants our address).
  return { action: 'reply', vip: message.target, requester, frame: { kind: 'ndp', frame: neighborAdvertisementFor(frame, context.mac) } };
}

/**
 * The address a Neighbor Discovery message says its sender holds, and at which MAC: an NA's
 * target at its target link-layer address (RFC 4861 4.4), or the IPv6 source of an NS at its
 * source link-layer address (4.3); the frame's source MAC where the option is missing.
 */
function claimIn(frame: NdpFrame): { vip: string; mac: string } | undefined {
  const { ethernet, packet } = frame;
  const message = packet.message;
  if (message.type === 'neighbor-advertisement') return { vip: message.target, mac: message.targetLinkLayerAddress ?? ethernet.source };
  if (isUnspecifiedIpv6(packet.source)) return undefined; // duplicate address detection claims nothing yet
  return { vip: packet.source, mac: message.sourceLinkLayerAddress ?? ethernet.source };
}

/**
 * Whether an NS was sent to this host: unicast to our MAC (RFC 4861 7.2.2 lets a node check a
 * cached entry by unicast), or to the target's solicited-node group or all-nodes, with the
 * Ethernet group that IPv6 group maps to (RFC 2464 section 7).
 */
function addressedToUs(frame: NdpFrame, mac: string): boolean {
  const { ethernet, packet } = frame;
  if (!isGroupMac(ethernet.destination)) return ethernet.destination === mac;
  const target = packet.message.target;
  const group = packet.destination;
  if (group !== solicitedNodeAddress(target) && group !== ALL_NODES_ADDRESS) return false;
  return ethernet.destination === ipv6MulticastMac(group);
}

function ignore(reason: IgnoreReason): ReplyDecision {
  return { action: 'ignore', reason };
}
