// Whether to answer a received frame, and with what: a pure function of the frame's bytes,
// the VIPs this node owns right now and this link's MAC. ARP per RFC 826 and RFC 5227;
// Neighbor Solicitations per RFC 4861 sections 7.1.1 and 7.2.3-7.2.4.
import type { Buffer } from 'node:buffer';
import { arpReplyTo } from './codec/arp.js';
import { isGroupMac } from './codec/ethernet.js';
import { Layer2DecodeError } from './codec/errors.js';
import { decodeLayer2Frame } from './codec/layer2-frame.js';
import type { Layer2Frame } from './codec/layer2-frame.js';
import { NDP_HOP_LIMIT, neighborAdvertisementFor } from './codec/ndp.js';

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
  /** An ARP reply or a Neighbor Advertisement: nothing to answer. */
  | 'not-a-request'
  /** An NS whose hop limit is not 255, so it may come from off-link (RFC 4861 7.1.1). */
  | 'hop-limit'
  /** Another host announces an address we own (gratuitous ARP with sender IP = target IP = VIP). */
  | 'conflict'
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

/** Decides whether and how to answer one received Ethernet frame (ARP, RFC 826; NS, RFC 4861 7.2.3). */
export function decideReply(bytes: Buffer, context: ReplyContext): ReplyDecision {
  let received: Layer2Frame;
  try {
    received = decodeLayer2Frame(bytes);
  } catch (error) {
    if (error instanceof Layer2DecodeError) return { action: 'malformed', error };
    throw error;
  }
  if (received.kind === 'arp') {
    const { ethernet, arp } = received.frame;
    if (ethernet.source === context.mac) return ignore('own-frame');
    if (arp.operation !== 'request') return ignore('not-a-request');
    if (!context.owns(arp.targetIp)) return ignore('not-owned');
    // RFC 5227 section 3: an announcement (sender IP = target IP) asks nothing; for an address
    // we own it means another host claims it. A probe (sender IP 0.0.0.0) is answered, as
    // Linux does, which defends the address (RFC 5227 section 2.4).
    if (arp.senderIp === arp.targetIp) return ignore('conflict');
    if (isGroupMac(arp.senderMac)) return ignore('bad-requester');
    return { action: 'reply', vip: arp.targetIp, requester: arp.senderMac, frame: { kind: 'arp', frame: arpReplyTo(received.frame, context.mac) } };
  }
  const { ethernet, packet } = received.frame;
  const message = packet.message;
  if (ethernet.source === context.mac) return ignore('own-frame');
  if (message.type !== 'neighbor-solicitation') return ignore('not-a-request');
  // RFC 4861 7.1.1: a node MUST silently discard an NS whose IP hop limit is not 255.
  if (packet.hopLimit !== NDP_HOP_LIMIT) return ignore('hop-limit');
  if (!context.owns(message.target)) return ignore('not-owned');
  const requester = message.sourceLinkLayerAddress ?? ethernet.source;
  if (isGroupMac(requester)) return ignore('bad-requester');
  // neighborAdvertisementFor applies RFC 4861 7.2.4: S=1 unicast back, or S=0 to ff02::1 for an
  // NS from :: (duplicate address detection by a host that wants our address).
  return { action: 'reply', vip: message.target, requester, frame: { kind: 'ndp', frame: neighborAdvertisementFor(received.frame, context.mac) } };
}

function ignore(reason: IgnoreReason): ReplyDecision {
  return { action: 'ignore', reason };
}
